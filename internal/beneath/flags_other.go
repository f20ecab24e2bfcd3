//go:build !linux

package beneath

// Inode flags: only Linux reports them (FS_IOC_GETFLAGS).
const (
	FlagImmutable  = 0x10
	FlagAppendOnly = 0x20
)

// Flags returns 0: inode flags are read on Linux only.
func (d *Dir) Flags(name string) (uint32, error) {
	if name == "" {
		return 0, nil
	}
	_, err := d.Lstat(name)
	return 0, err
}

// Writable checks only that name is a directory reached without links;
// where no access check is at hand the rename itself tells.
func (d *Dir) Writable(name string) error {
	if name == "" {
		return nil
	}
	_, err := d.Lstat(name)
	return err
}
