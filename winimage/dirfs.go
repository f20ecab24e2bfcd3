package winimage

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DirBackend is an installation in a host directory (a mounted or applied
// volume). It is not a Committer: see Committer.
type DirBackend struct {
	root     string // absolute
	realRoot string // root with symbolic links resolved, for escape checks
}

// NewDirBackend opens the installation in the directory dir.
func NewDirBackend(dir string) (*DirBackend, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open volume %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open volume: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open volume %s: not a directory: %w", abs, ErrNotWindows)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("open volume %s: %w", abs, err)
	}
	return &DirBackend{root: abs, realRoot: real}, nil
}

// Root is the directory, absolute.
func (d *DirBackend) Root() string { return d.root }

func (d *DirBackend) String() string { return d.root }

// Close does nothing: a directory holds nothing open.
func (d *DirBackend) Close() error { return nil }

// host returns the host path of a stored name, refusing names that climb.
func (d *DirBackend) host(name string) (string, error) {
	if name == "." || name == "" {
		return d.root, nil
	}
	if !fs.ValidPath(name) {
		return "", fmt.Errorf("%q: %w", name, ErrEscape)
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

// Open opens a regular file.
func (d *DirBackend) Open(name string) (fs.File, error) {
	p, err := d.Stat(name)
	if err != nil {
		return nil, err
	}
	if !p.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", filepath.Join(d.root, filepath.FromSlash(name)))
	}
	hp, _ := d.host(name)
	return os.Open(hp)
}

// Lstat describes name without following a final link.
func (d *DirBackend) Lstat(name string) (fs.FileInfo, error) {
	p, err := d.host(name)
	if err != nil {
		return nil, err
	}
	return os.Lstat(p)
}

// Stat follows links that stay beneath the root.
func (d *DirBackend) Stat(name string) (fs.FileInfo, error) {
	p, err := d.host(name)
	if err != nil {
		return nil, err
	}
	st, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if st.Mode()&fs.ModeSymlink == 0 {
		return st, nil
	}
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, fmt.Errorf("resolve link %s: %w", p, err)
	}
	r, err := filepath.Rel(d.realRoot, target)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return nil, fmt.Errorf("%s -> %s: %w", p, target, ErrEscape)
	}
	return os.Stat(target)
}

// ReadDir lists a directory.
func (d *DirBackend) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := d.host(name)
	if err != nil {
		return nil, err
	}
	return os.ReadDir(p)
}
