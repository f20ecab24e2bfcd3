package hive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrBusy is wrapped when another process keeps a hive file locked for
// editing longer than the wait allows.
var ErrBusy = errors.New("the hive is being edited by another process")

// defaultLockWait is how long an editor waits for another one to finish.
const defaultLockWait = 10 * time.Second

// fileLock is an exclusive lock on a hive file, held by an editor from
// Open to Close so that two editors of one file cannot both read it, edit
// and write it back, losing one's edits.
type fileLock struct {
	f *os.File
}

// lockFile takes the exclusive lock on path, waiting up to wait (and no
// longer than ctx allows). The lock is on the file's inode: an editor that
// replaced the file (SaveAs renames a new one into place) leaves waiters
// holding the old inode, so after locking the file is checked to still be
// the one at path, and the lock taken again otherwise.
func lockFile(ctx context.Context, path string, wait time.Duration) (*fileLock, error) {
	deadline := time.Now().Add(wait)
	for {
		f, err := openRegular(path)
		if err != nil {
			return nil, err
		}
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock hive %s: %w", path, err)
		}
		if ok {
			if st, err := os.Stat(path); err == nil {
				if fst, err := f.Stat(); err == nil && os.SameFile(st, fst) {
					return &fileLock{f: f}, nil
				}
			}
			f.Close() // replaced meanwhile: lock the new file
			continue
		}
		f.Close()
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("hive %s: %w (waited %v); retry when it is done", path, ErrBusy, wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (l *fileLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing drops the lock
	l.f = nil
	return err
}
