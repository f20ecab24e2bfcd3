package wim

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Reparse tags this package understands.
const (
	ReparseTagMountPoint = 0xA0000003 // directory junction
	ReparseTagSymlink    = 0xA000000C
	symlinkFlagRelative  = 1
)

// LinkTarget is a symbolic link or junction target decoded from reparse data.
type LinkTarget struct {
	Path     string // with '\' separators, without the \??\ prefix
	Relative bool   // relative to the link's directory
	// Absolute targets: Drive is "C:" or "" ; Path then starts with '\'.
	Drive string
}

// parseLinkReparse decodes the reparse data (without its 8-byte header) of a
// symbolic link or junction. ok is false for other tags or malformed data.
func parseLinkReparse(tag uint32, data []byte) (LinkTarget, bool) {
	var t LinkTarget
	hdr := 8
	if tag == ReparseTagSymlink {
		hdr = 12
	} else if tag != ReparseTagMountPoint {
		return t, false
	}
	if len(data) < hdr {
		return t, false
	}
	subOff := int(binary.LittleEndian.Uint16(data[0:]))
	subLen := int(binary.LittleEndian.Uint16(data[2:]))
	printOff := int(binary.LittleEndian.Uint16(data[4:]))
	printLen := int(binary.LittleEndian.Uint16(data[6:]))
	if tag == ReparseTagSymlink {
		t.Relative = binary.LittleEndian.Uint32(data[8:])&symlinkFlagRelative != 0
	}
	buf := data[hdr:]
	name := func(off, n int) (string, bool) {
		if off%2 != 0 || n%2 != 0 || off+n > len(buf) {
			return "", false
		}
		return decodeUTF16(buf[off : off+n]), true
	}
	sub, ok1 := name(subOff, subLen)
	prn, ok2 := name(printOff, printLen)
	if !ok1 || !ok2 {
		return t, false
	}
	p := sub
	if p == "" {
		p = prn
	}
	for _, prefix := range []string{`\??\`, `\\?\`, `\DosDevices\`} {
		if strings.HasPrefix(p, prefix) {
			p = p[len(prefix):]
			break
		}
	}
	if len(p) >= 2 && p[1] == ':' && isLetter(p[0]) {
		t.Drive, p = p[:2], p[2:]
	}
	if !t.Relative && !strings.HasPrefix(p, `\`) && t.Drive == "" {
		// A non-relative target without a root: treat as relative, as Windows does.
		t.Relative = true
	}
	t.Path = p
	return t, true
}

func isLetter(c byte) bool { return 'a' <= c&^0x20 && c&^0x20 <= 'z' || 'A' <= c && c <= 'Z' }

// symlinkReparse encodes a symbolic link as reparse data without its 8-byte
// header, the way wimlib and Windows lay it out: the substitute name, then the
// print name, each followed by a NUL that the lengths do not count. Absolute
// targets (path starting with '\') get the \??\C: prefix in the substitute
// name and C: in the print name.
func symlinkReparse(target string, relative bool) []byte {
	sub, prn := target, target
	if !relative {
		sub, prn = `\??\C:`+target, `C:`+target
	}
	s, p := encodeUTF16(sub), encodeUTF16(prn)
	b := make([]byte, 12+len(s)+2+len(p)+2)
	binary.LittleEndian.PutUint16(b[0:], 0)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(s)))
	binary.LittleEndian.PutUint16(b[4:], uint16(len(s)+2))
	binary.LittleEndian.PutUint16(b[6:], uint16(len(p)))
	if relative {
		binary.LittleEndian.PutUint32(b[8:], symlinkFlagRelative)
	}
	copy(b[12:], s)
	copy(b[12+len(s)+2:], p)
	return b
}

// ReadLink decodes the target of a symbolic link or junction of the image.
func (r *Reader) ReadLink(f *File) (LinkTarget, error) {
	if !f.IsReparsePoint() {
		return LinkTarget{}, fmt.Errorf("%s is not a reparse point", f.Path())
	}
	data, err := r.readSmallStream(f.Reparse.Hash, newDecoders())
	if err != nil {
		return LinkTarget{}, fmt.Errorf("%s: reparse data: %w", f.Path(), err)
	}
	lt, ok := parseLinkReparse(f.ReparseTag, data)
	if !ok {
		return LinkTarget{}, fmt.Errorf("%w: %s: not a symbolic link or junction, or malformed (tag %#x)", ErrFormat, f.Path(), f.ReparseTag)
	}
	return lt, nil
}
