package wim

import (
	"errors"
	"fmt"
	"os"
)

// ErrLocked is wrapped by the error for a WIM another process is modifying
// (reseal, or wimlib, which takes the same lock).
var ErrLocked = errors.New("locked for modification by another process")

// openForRewrite opens the WIM at path for a command that replaces it (an
// appended image, export into it, delete, optimize, rename) and takes its
// lock: an exclusive, non-blocking flock on the file, held until the Reader
// is closed, the lock wimlib takes on a WIM it modifies. Without it two
// appends could each copy the old file and rename their own over it, and
// the first image would be lost. The file is replaced by rename, so the
// lock taken is checked to be on the file path names now (an append that
// just finished replaced it), else it is opened again. Where there is no
// such lock (Windows) it is only opened.
func openForRewrite(path string) (*Reader, error) {
	for range 8 {
		r, err := Open(path)
		if err != nil {
			return nil, err
		}
		current, err := r.lockForRewrite()
		if err != nil {
			r.Close()
			return nil, err
		}
		if current {
			return r, nil
		}
		r.Close()
	}
	return nil, fmt.Errorf("%s: replaced again and again while being opened: %w", path, ErrLocked)
}

// lockForRewrite takes the lock of r's file (see openForRewrite), held
// until r is closed, and reports whether r's path still names that file
// (when not, r is out of date: it was replaced before the lock was taken).
func (r *Reader) lockForRewrite() (current bool, err error) {
	f, ok := r.closer.(*os.File)
	if !ok || r.name == "" {
		return true, nil
	}
	locked, err := lockFile(f)
	if err != nil {
		return false, fmt.Errorf("%s: lock: %w", r.name, err)
	}
	if !locked {
		return false, fmt.Errorf("%s: %w", r.name, ErrLocked)
	}
	held, err1 := f.Stat()
	now, err2 := os.Stat(r.name)
	return err1 == nil && err2 == nil && os.SameFile(held, now), nil
}
