//go:build unix && !linux

package beneath

import "golang.org/x/sys/unix"

// mountID is the device number: without mount ids a bind mount of the
// same file system is not told apart.
func mountID(dirfd int, name string) (uint64, error) {
	var st unix.Stat_t
	if name == "" {
		if err := unix.Fstat(dirfd, &st); err != nil {
			return 0, err
		}
		return uint64(st.Dev), nil
	}
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return 0, err
	}
	return uint64(st.Dev), nil
}
