//go:build !linux

package beneath

import "testing"

// withoutOpenat2 is a no-op: only Linux has openat2, elsewhere the walk is
// the only way.
func withoutOpenat2(t *testing.T) {}
