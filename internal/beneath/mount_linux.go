package beneath

import "golang.org/x/sys/unix"

// mountID is the mount id statx reports (Linux 5.8 on), or the device
// number where it does not.
// name "" is dirfd itself; a link as name is not followed.
func mountID(dirfd int, name string) (uint64, error) {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if name == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	var stx unix.Statx_t
	err := unix.Statx(dirfd, name, flags, unix.STATX_MNT_ID, &stx)
	if err == nil && stx.Mask&unix.STATX_MNT_ID != 0 {
		return stx.Mnt_id | 1<<63, nil
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, flags); err != nil {
		return 0, err
	}
	return uint64(st.Dev), nil
}
