package winimage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/reseal/reseal/hive"
)

// ErrUnknownRoot is returned for a registry path whose root this volume
// cannot map to a hive (HKEY_CURRENT_USER, HKEY_CLASSES_ROOT, ...).
var ErrUnknownRoot = errors.New("registry root not mapped to a hive")

// KeyRef names a key of the volume's registry: a hive and the key's path
// inside it ("" is the hive's root key).
type KeyRef struct {
	Hive string // SYSTEM, SOFTWARE, SAM, SECURITY, DEFAULT, or a user's SID
	Path string // backslash-separated, no leading backslash
}

// String renders the key the way Windows tools name it
// (HKLM\SYSTEM\ControlSet001\...; HKU\.DEFAULT\...).
func (r KeyRef) String() string {
	prefix := `HKLM\` + r.Hive
	switch {
	case r.Hive == HiveDefault:
		prefix = `HKU\.DEFAULT`
	case IsUserHive(r.Hive):
		prefix = `HKU\` + r.Hive
	}
	if r.Path == "" {
		return prefix
	}
	return prefix + `\` + r.Path
}

// Map translates a registry path as Windows names it (HKLM\SYSTEM\CurrentControlSet\...,
// HKEY_LOCAL_MACHINE\SOFTWARE\..., HKU\.DEFAULT\..., HKU\<SID>\... for a user's
// NTUSER.DAT) to a hive and key path.
// CurrentControlSet becomes the control set Select\Current names.
func (v *Volume) Map(regPath string) (KeyRef, error) {
	parts := splitKey(regPath)
	if len(parts) < 2 {
		return KeyRef{}, fmt.Errorf("registry path %q: %w", regPath, ErrUnknownRoot)
	}
	var ref KeyRef
	switch strings.ToUpper(parts[0]) {
	case "HKLM", "HKEY_LOCAL_MACHINE":
		switch name := strings.ToUpper(parts[1]); name {
		case HiveSystem, HiveSoftware, HiveSAM, HiveSecurity:
			ref.Hive = name
		default:
			return KeyRef{}, fmt.Errorf("registry path %q: %w", regPath, ErrUnknownRoot)
		}
	case "HKU", "HKEY_USERS":
		switch up := strings.ToUpper(parts[1]); {
		case up == ".DEFAULT" || up == "S-1-5-18":
			ref.Hive = HiveDefault
		case IsUserHive(up) && !strings.HasSuffix(up, "_CLASSES"):
			ref.Hive = up // the user's NTUSER.DAT
		default:
			return KeyRef{}, fmt.Errorf("registry path %q: %w", regPath, ErrUnknownRoot)
		}
	default:
		return KeyRef{}, fmt.Errorf("registry path %q: %w", regPath, ErrUnknownRoot)
	}
	rest := parts[2:]
	if ref.Hive == HiveSystem && len(rest) > 0 && SameName(rest[0], "CurrentControlSet") {
		if v.Installation.CurrentControlSet <= 0 {
			return KeyRef{}, fmt.Errorf("registry path %q: the SYSTEM hive names no current control set", regPath)
		}
		rest = append([]string{ControlSetName(v.Installation.CurrentControlSet)}, rest[1:]...)
	}
	ref.Path = strings.Join(rest, `\`)
	return ref, nil
}

// ControlSetName is the key of control set n: ControlSet001.
func ControlSetName(n int) string { return fmt.Sprintf("ControlSet%03d", n) }

// CurrentControlSet returns the key path of the current control set in the
// SYSTEM hive (ControlSet001), joined with the given subpath.
func (v *Volume) CurrentControlSet(sub string) string {
	p := ControlSetName(v.Installation.CurrentControlSet)
	if sub != "" {
		p += `\` + sub
	}
	return p
}

// Key opens a key by its Windows registry path. The error wraps
// hive.ErrNotExist when the key is absent, fs.ErrNotExist when the hive is.
func (v *Volume) Key(regPath string) (*hive.Key, error) {
	ref, err := v.Map(regPath)
	if err != nil {
		return nil, err
	}
	return v.OpenKey(ref)
}

// OpenKey opens a key of a hive of the volume.
func (v *Volume) OpenKey(ref KeyRef) (*hive.Key, error) {
	h, err := v.Hive(ref.Hive)
	if err != nil {
		return nil, err
	}
	k, err := h.Root().OpenKey(ref.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return k, nil
}

// Value reads a value; ok is false when the hive, key or value is absent.
func (v *Volume) Value(ref KeyRef, name string) (hive.Value, bool) {
	k, err := v.OpenKey(ref)
	if err != nil {
		return hive.Value{}, false
	}
	val, err := k.Value(name)
	if err != nil {
		return hive.Value{}, false
	}
	return val, true
}

// String reads a string value ("" and false when absent or not a string).
func (v *Volume) String(ref KeyRef, name string) (string, bool) {
	val, ok := v.Value(ref, name)
	if !ok {
		return "", false
	}
	s, err := val.String()
	if err != nil {
		return "", false
	}
	return s, true
}

// Integer reads a DWORD or QWORD value.
func (v *Volume) Integer(ref KeyRef, name string) (uint64, bool) {
	val, ok := v.Value(ref, name)
	if !ok {
		return 0, false
	}
	n, err := val.Uint64()
	if err != nil {
		return 0, false
	}
	return n, true
}

// KeyExists reports whether a key exists.
func (v *Volume) KeyExists(ref KeyRef) bool {
	_, err := v.OpenKey(ref)
	return err == nil
}

func splitKey(p string) []string {
	var parts []string
	for _, s := range strings.Split(p, `\`) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return parts
}
