package unattend

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Redacted is what Windows writes in place of a secret once a pass has used
// it.
const Redacted = "*SENSITIVE*DATA*DELETED*"

// EncodePassword returns the hidden form of a password
// (<PlainText>false</PlainText>): base64 of the UTF-16LE code units of the
// password followed by the name of the element that holds it
// ("AdministratorPassword", "Password").
func EncodePassword(password, element string) string {
	units := utf16.Encode([]rune(password + element))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = append(b, byte(u), byte(u>>8))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// DecodePassword reverses EncodePassword. It fails when encoded is not
// base64 of UTF-16LE text ending in element (an empty element skips that
// last check and returns the whole text).
func DecodePassword(encoded, element string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return "", fmt.Errorf("not base64: %w", err)
	}
	if len(raw)%2 != 0 {
		return "", errors.New("not UTF-16LE: odd number of bytes")
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		if utf16.IsSurrogate(u) {
			if u >= 0xDC00 || i+1 >= len(units) || utf16.DecodeRune(u, rune(units[i+1])) == utf8.RuneError {
				return "", fmt.Errorf("not UTF-16LE: unpaired surrogate at unit %d", i)
			}
			i++
		}
	}
	text := string(utf16.Decode(units))
	if element == "" {
		return text, nil
	}
	password, ok := strings.CutSuffix(text, element)
	if !ok {
		return "", fmt.Errorf("decoded text does not end with the element name %q", element)
	}
	return password, nil
}

// passwordNode reports whether n is a password structure: an element holding
// <Value> and <PlainText> (AdministratorPassword, LocalAccount/Password,
// AutoLogon/Password, ...).
func passwordNode(n *Node) bool {
	return n.Kind == ElementNode && n.Child("Value") != nil && n.Child("PlainText") != nil
}

// secretLeaf reports whether n is a plain string secret: an element without
// children elements named Password or ...Password (domain join credentials,
// MachinePassword, DomainAdminPassword) that is not a password structure.
func secretLeaf(n *Node) bool {
	return n.Kind == ElementNode && strings.HasSuffix(n.Name.Local, "Password") && !n.HasElements()
}

// RedactSecrets replaces every password in the file by
// *SENSITIVE*DATA*DELETED*, as Windows does in its cached copy once a pass
// has run: a password structure (<AdministratorPassword>, <Password> with
// <Value> and <PlainText>) loses its children and holds only the marker,
// and plain password elements (domain join Credentials/Password,
// MachinePassword, ...) get the marker as their text. Empty passwords are
// redacted too: whether a password was blank is itself a secret.
func (f *File) RedactSecrets() {
	redact(f.Root)
}

// RedactPass redacts the secrets of one pass only, as Windows does after
// running it: the passwords of passes still to come must stay.
func (f *File) RedactPass(pass string) {
	for _, s := range f.SettingsBlocks() {
		if p, _ := s.Attr("", "pass"); p == pass {
			redact(s)
		}
	}
}

func redact(root *Node) {
	walkElements(root, func(n *Node) bool {
		switch {
		case passwordNode(n):
			n.SetContent(Redacted)
			return false
		case secretLeaf(n):
			n.SetContent(Redacted)
			return false
		}
		return true
	})
}

// MarkPassProcessed sets wasPassProcessed="true" on the <settings> blocks of
// pass, as Windows does once it has applied them.
func (f *File) MarkPassProcessed(pass string) {
	for _, s := range f.SettingsBlocks() {
		if p, _ := s.Attr("", "pass"); p == pass {
			s.SetAttr("", "", "wasPassProcessed", "true")
		}
	}
}

// walkElements visits n and its element descendants depth first; visit
// returns false to skip the children of a node.
func walkElements(n *Node, visit func(*Node) bool) {
	if n == nil || n.Kind != ElementNode {
		return
	}
	if !visit(n) {
		return
	}
	for _, c := range n.Children {
		if c.Kind == ElementNode {
			walkElements(c, visit)
		}
	}
}
