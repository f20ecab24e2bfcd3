package winimage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"unicode"
)

// ErrEscape is returned for a path that would leave the volume: a ".."
// component, an absolute path, or a symbolic link pointing outside the root.
var ErrEscape = errors.New("path leaves the volume")

// SameName reports whether two file or registry names are equal the way
// Windows compares them: character by character after upper-casing.
// (Unlike strings.EqualFold, no other case foldings: the Kelvin sign and
// "k" differ, as they do to Windows.)
func SameName(a, b string) bool {
	if a == b {
		return true
	}
	ra, rb := []rune(a), []rune(b)
	if len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		if ra[i] != rb[i] && unicode.ToUpper(ra[i]) != unicode.ToUpper(rb[i]) {
			return false
		}
	}
	return true
}

// splitRel splits a volume-relative path written with either separator into
// its components, refusing anything that could climb out of the root.
func splitRel(rel string) ([]string, error) {
	rel = strings.ReplaceAll(rel, `\`, "/")
	if strings.HasPrefix(rel, "/") || filepath.IsAbs(rel) || (len(rel) >= 2 && rel[1] == ':') {
		return nil, fmt.Errorf("%q: absolute: %w", rel, ErrEscape)
	}
	var parts []string
	for _, p := range strings.Split(rel, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return nil, fmt.Errorf("%q: %w", rel, ErrEscape)
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// Lookup returns the stored spelling of a volume-relative path
// ("Windows/System32/config/SYSTEM", backslashes accepted), matching each
// component case-insensitively against the directory's entries, the way
// Windows would. A missing component gives an error wrapping
// fs.ErrNotExist; a path that leaves the volume, ErrEscape. It works on
// every backend.
func (v *Volume) Lookup(rel string) (string, error) {
	p, missing, err := v.resolve(rel)
	if err != nil {
		return "", err
	}
	if missing {
		return "", fmt.Errorf("%s: %w", v.shown(strings.ReplaceAll(rel, `\`, "/")), fs.ErrNotExist)
	}
	return p, nil
}

// LookupNew is Lookup for a path that may not exist yet (a file about to be
// written): existing components get their stored spelling, missing ones
// keep the spelling given.
func (v *Volume) LookupNew(rel string) (string, error) {
	p, _, err := v.resolve(rel)
	return p, err
}

// shown names a volume path in messages: a host path for a directory,
// IMAGE.wim:1:\path for others.
func (v *Volume) shown(rel string) string {
	if v.Root != "" {
		return filepath.Join(v.Root, filepath.FromSlash(rel))
	}
	return v.backend.String() + `:\` + strings.ReplaceAll(rel, "/", `\`)
}

// errNoHostPath is returned by the host-path methods on a backend that is
// not a directory.
var errNoHostPath = errors.New("the installation is not in a host directory")

// Resolve is Lookup returning the host path, for a volume in a directory
// (others have no host paths: the error wraps errNoHostPath).
func (v *Volume) Resolve(rel string) (string, error) {
	if v.Root == "" {
		return "", fmt.Errorf("%s: %w", v.backend, errNoHostPath)
	}
	p, err := v.Lookup(rel)
	if err != nil {
		return "", err
	}
	return filepath.Join(v.Root, filepath.FromSlash(p)), nil
}

// ResolveNew is LookupNew returning the host path, for a volume in a
// directory.
func (v *Volume) ResolveNew(rel string) (string, error) {
	if v.Root == "" {
		return "", fmt.Errorf("%s: %w", v.backend, errNoHostPath)
	}
	p, err := v.LookupNew(rel)
	if err != nil {
		return "", err
	}
	return filepath.Join(v.Root, filepath.FromSlash(p)), nil
}

// Rel returns the volume-relative path (forward slashes) of a host path
// inside a volume in a directory.
func (v *Volume) Rel(hostPath string) (string, error) {
	if v.Root == "" {
		return "", fmt.Errorf("%s: %w", v.backend, errNoHostPath)
	}
	r, err := filepath.Rel(v.Root, hostPath)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: %w", hostPath, ErrEscape)
	}
	return filepath.ToSlash(r), nil
}

// resolve returns the stored spelling of rel ("." for the root) and
// whether some component is missing (then the rest keeps the spelling
// given).
func (v *Volume) resolve(rel string) (string, bool, error) {
	parts, err := splitRel(rel)
	if err != nil {
		return "", false, err
	}
	cur := ""
	for i, part := range parts {
		name, err := v.lookup(cur, part)
		if errors.Is(err, fs.ErrNotExist) {
			return path.Join(append([]string{cur}, parts[i:]...)...), true, nil
		}
		if err != nil {
			return "", false, err
		}
		next := path.Join(cur, name)
		st, err := v.backend.Lstat(next)
		if err != nil {
			return "", false, fmt.Errorf("resolve %s: %w", v.shown(next), err)
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			// Refuses a link out of the volume.
			if _, err := v.backend.Stat(next); err != nil {
				return "", false, err
			}
		}
		cur = next
	}
	if cur == "" {
		cur = "."
	}
	return cur, false, nil
}

// lookup finds the entry of dir whose name matches name case-insensitively,
// preferring an exact match.
func (v *Volume) lookup(dir, name string) (string, error) {
	if _, err := v.backend.Lstat(path.Join(dir, name)); err == nil {
		return name, nil
	}
	d := dir
	if d == "" {
		d = "."
	}
	entries, err := v.backend.ReadDir(d)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return "", fs.ErrNotExist
		}
		return "", fmt.Errorf("read directory %s: %w", v.shown(d), err)
	}
	for _, e := range entries {
		if SameName(e.Name(), name) {
			return e.Name(), nil
		}
	}
	return "", fs.ErrNotExist
}

// Exists reports whether a volume-relative path exists.
func (v *Volume) Exists(rel string) bool {
	_, err := v.Lookup(rel)
	return err == nil
}

// Stat describes a volume path (resolved case-insensitively), following
// links that stay inside the volume.
func (v *Volume) Stat(rel string) (fs.FileInfo, error) {
	p, err := v.Lookup(rel)
	if err != nil {
		return nil, err
	}
	return v.backend.Stat(p)
}

// ReadDir lists a volume directory (resolved case-insensitively); a missing
// directory lists as empty.
func (v *Volume) ReadDir(rel string) ([]fs.DirEntry, error) {
	p, err := v.Lookup(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if st, err := v.backend.Stat(p); err == nil && st.Mode()&fs.ModeSymlink == 0 && !st.IsDir() {
		return nil, fmt.Errorf("read directory %s: %w", v.shown(p), syscall.ENOTDIR)
	}
	entries, err := v.backend.ReadDir(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read directory %s: %w", v.shown(p), err)
	}
	return entries, nil
}

// Open opens a volume file (resolved case-insensitively) for reading.
func (v *Volume) Open(rel string) (fs.File, error) {
	p, err := v.Lookup(rel)
	if err != nil {
		return nil, err
	}
	f, err := v.backend.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", v.shown(p), err)
	}
	return f, nil
}

// ReadFile reads a volume file, refusing files larger than limit bytes.
func (v *Volume) ReadFile(rel string, limit int64) ([]byte, error) {
	p, err := v.Lookup(rel)
	if err != nil {
		return nil, err
	}
	return v.readStored(p, limit)
}

// readStored reads a file by its stored name.
func (v *Volume) readStored(p string, limit int64) ([]byte, error) {
	shown := v.shown(p)
	f, err := v.backend.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", shown, err)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this reader accepts", shown, st.Size(), limit)
	}
	buf, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", shown, err)
	}
	if int64(len(buf)) > limit {
		return nil, fmt.Errorf("%s: grew past the %d bytes this reader accepts", shown, limit)
	}
	return buf, nil
}
