package beneath

import "testing"

// withoutOpenat2 makes the rest of the test use the component walk, the
// fallback for kernels without openat2.
func withoutOpenat2(t *testing.T) {
	useOpenat2 = false
	t.Cleanup(func() { useOpenat2 = true })
}
