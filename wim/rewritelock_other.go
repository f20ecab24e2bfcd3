//go:build !unix

package wim

import "os"

// lockFile: Windows has no advisory lock of a whole file (LockFileEx
// ranges are mandatory: they would keep readers from the header), so a
// WIM being rewritten is not locked there (see docs/wim.md).
func lockFile(*os.File) (bool, error) { return true, nil }
