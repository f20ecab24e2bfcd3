//go:build unix && !linux

package beneath

import "errors"

var errNoOpenat2 = errors.New("openat2 unavailable")

func openBeneath(int, string) (int, error) { return -1, errNoOpenat2 }
