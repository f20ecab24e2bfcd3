package unattend

import (
	"fmt"
	"strings"
	"unicode"
)

// computerNameForbidden are the characters Microsoft's ComputerName page
// (Microsoft-Windows-Shell-Setup | ComputerName) lists as not allowed,
// besides spaces.
const computerNameForbidden = "{|}~[\\]^':;<=>?@!\"#$%`()+/.,*&"

// maxComputerNameBytes is the documented limit: 15 bytes of content
// (NetBIOS names; multi-byte characters count each of their bytes).
const maxComputerNameBytes = 15

// CheckComputerName returns why name cannot be a ComputerName, or nil. "*"
// and "" ask Windows for a random name and are valid.
func CheckComputerName(name string) error {
	if name == "" || name == "*" {
		return nil
	}
	if n := len(name); n > maxComputerNameBytes {
		return fmt.Errorf("%q is %d bytes long; the limit is %d", name, n, maxComputerNameBytes)
	}
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			return fmt.Errorf("%q contains a space", name)
		case strings.ContainsRune(computerNameForbidden, r):
			return fmt.Errorf("%q contains %q, which a computer name cannot use", name, r)
		case r < 0x20 || r == 0x7F:
			return fmt.Errorf("%q contains a control character", name)
		case r >= 0x10000 || unicode.Is(unicode.So, r):
			return fmt.Errorf("%q contains %q, a symbol such as an emoji that a computer name cannot use", name, r)
		}
	}
	if strings.Trim(name, "0123456789") == "" {
		return fmt.Errorf("%q is only digits, which DnsValidateName refuses", name)
	}
	return nil
}
