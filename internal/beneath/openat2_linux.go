package beneath

import (
	"errors"

	"golang.org/x/sys/unix"
)

var errNoOpenat2 = errors.New("openat2 unavailable")

// useOpenat2 is turned off by tests to exercise the walk.
var useOpenat2 = true

// openBeneath opens dir below dirfd with openat2, which refuses in the
// kernel any link (RESOLVE_NO_SYMLINKS, magic links included) and any
// escape (RESOLVE_BENEATH) in every component.
func openBeneath(dirfd int, dir string) (int, error) {
	if !useOpenat2 {
		return -1, errNoOpenat2
	}
	fd, err := unix.Openat2(dirfd, dir, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		return -1, errNoOpenat2
	}
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		return -1, errNoOpenat2 // a concurrent rename: let the walk decide
	}
	return fd, err
}
