package winimage

import (
	"encoding/binary"
	"fmt"
)

// SAM user account control flags (the ACB_ bits in the account's F value).
const (
	AccountDisabled = 0x0001
)

// BuiltinAdministratorKey is the built-in Administrator's key (RID 500) in SAM.
var BuiltinAdministratorKey = KeyRef{Hive: HiveSAM, Path: `SAM\Domains\Account\Users\000001F4`}

// samFLength is the length of a user account's fixed-size F value; the
// account control flags are the 16-bit word at offset 0x38.
const (
	samFLength     = 0x50
	samFFlagOffset = 0x38
)

// AccountFlags returns the account control flags stored in a SAM user's F value.
func AccountFlags(f []byte) (uint16, error) {
	if len(f) < samFLength {
		return 0, fmt.Errorf("SAM account F value: %d bytes, want %d", len(f), samFLength)
	}
	return binary.LittleEndian.Uint16(f[samFFlagOffset:]), nil
}

// WithAccountFlags returns a copy of an F value with its account control
// flags replaced.
func WithAccountFlags(f []byte, flags uint16) ([]byte, error) {
	if len(f) < samFLength {
		return nil, fmt.Errorf("SAM account F value: %d bytes, want %d", len(f), samFLength)
	}
	out := append([]byte(nil), f...)
	binary.LittleEndian.PutUint16(out[samFFlagOffset:], flags)
	return out, nil
}
