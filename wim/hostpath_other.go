//go:build !windows

package wim

import "strings"

// How the host names files, for Apply's checks. On Linux and other Unix
// systems names are compared byte for byte and any name without '/' and NUL
// can be created.

func hostNameKey(name string) string { return name }

func hostNameOK(name string) bool { return true }

func hostPathKey(path string) string { return path }

func hostSamePath(a, b string) bool { return a == b }

func hostHasPrefix(path, prefix string) bool { return strings.HasPrefix(path, prefix) }

// hostRooted reports whether a link target is resolved from a root rather
// than from the link's directory.
func hostRooted(target string) bool { return strings.HasPrefix(target, "/") }
