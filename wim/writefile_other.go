//go:build !linux

package wim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// newFile is a file being written under a temporary name beside its final
// path (see writeFileAtomic).
type newFile struct {
	f         *os.File
	tmp, path string
}

// createNew creates a new temporary file beside path. Outside Linux direct
// is not used: every file goes through a temporary and a rename.
func createNew(path string, direct, sparse bool) (*newFile, error) {
	f, tmp, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	return &newFile{f: f, tmp: tmp, path: path}, nil
}

func (f *newFile) Write(p []byte) (int, error) { return f.f.Write(p) }

// commit closes the file, renames it over path and gives it the times of
// times (when not nil). On an error the temporary file is removed.
func (f *newFile) commit(times *File) error {
	if err := f.f.Close(); err != nil {
		os.Remove(f.tmp)
		return err
	}
	if err := renameInto(f.tmp, f.path); err != nil {
		return err
	}
	if times != nil {
		return setTimes(f.path, times, false)
	}
	return nil
}

func (f *newFile) discard() {
	f.f.Close()
	os.Remove(f.tmp)
}

// createTemp creates a new file beside path (see tempName).
func createTemp(path string) (*os.File, string, error) {
	for range 8 {
		tmp := tempName(path)
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, tmp, err
	}
	return nil, "", fmt.Errorf("create a temporary file beside %s: names taken", path)
}

// renameInto renames the finished temporary file tmp to path, replacing a
// file or link there; a directory in the way is an error (and tmp is
// removed).
func renameInto(tmp, path string) error {
	if st, err := os.Lstat(path); err == nil && st.IsDir() {
		os.Remove(tmp)
		return fmt.Errorf("create %s: a directory is in the way", path)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
