package beneath

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Inode flags that make a rename fail whatever the permissions.
const (
	FlagImmutable  = 0x10 // FS_IMMUTABLE_FL, chattr +i
	FlagAppendOnly = 0x20 // FS_APPEND_FL, chattr +a
)

// Flags returns the inode flags (FS_IOC_GETFLAGS) of name, a regular file
// or directory; 0 for other kinds and where the file system keeps none.
func (d *Dir) Flags(name string) (uint32, error) {
	if name == "" {
		return getFlags(d.fd, d, name)
	}
	pfd, base, err := d.parent(name)
	if err != nil {
		return 0, err
	}
	defer d.closeParent(pfd)
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return 0, d.pathErr("lstat", name, err)
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
		return 0, nil
	}
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, d.pathErr("open", name, err)
	}
	defer unix.Close(fd)
	return getFlags(fd, d, name)
}

func getFlags(fd int, d *Dir, name string) (uint32, error) {
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return 0, nil
	}
	if err != nil {
		return 0, d.pathErr("getflags", name, err)
	}
	return flags, nil
}

// Writable reports whether the directory name (or the root, "") can be
// written: a read-only mount fails with EROFS, permissions with EACCES.
func (d *Dir) Writable(name string) error {
	fd, release, err := d.dirFD(name)
	if err != nil {
		return err
	}
	defer release()
	if err := unix.Faccessat(fd, ".", unix.W_OK, unix.AT_EACCESS); err != nil {
		return d.pathErr("access", name, err)
	}
	return nil
}
