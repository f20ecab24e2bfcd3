//go:build windows

package wim

import (
	"path/filepath"
	"strings"
)

// How Windows names files, for Apply's checks. Names are compared without
// case, so two image names that differ only in case are one file and a link
// target is looked up the same way. A name with ':' would name an alternate
// data stream, one ending in '.' or ' ' is silently trimmed, and device
// names (CON, NUL, COM1 ...) do not create files: all are refused.

func hostNameKey(name string) string { return strings.ToLower(name) }

func hostNameOK(name string) bool {
	if name == "" || strings.ContainsAny(name, `:*?"<>|`) || strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
		return false
	}
	for _, c := range name {
		if c < 32 {
			return false
		}
	}
	base := strings.ToUpper(name)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimRight(base, " ")
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return false
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && base[3] >= '0' && base[3] <= '9' {
		return false
	}
	return true
}

func hostPathKey(path string) string { return strings.ToLower(path) }

func hostSamePath(a, b string) bool { return strings.EqualFold(a, b) }

func hostHasPrefix(path, prefix string) bool {
	return len(path) >= len(prefix) && strings.EqualFold(path[:len(prefix)], prefix)
}

// hostRooted reports whether a link target is resolved from a root rather
// than from the link's directory: "C:\x", "\x" (the current drive's root),
// "C:x" (the drive's current directory) and UNC and device paths are all
// rooted, and then must lie under the destination to be accepted.
func hostRooted(target string) bool {
	return filepath.VolumeName(target) != "" || strings.HasPrefix(target, `\`) || strings.HasPrefix(target, "/")
}
