package winimage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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

// Resolve returns the host path of a volume-relative path ("Windows/System32/config/SYSTEM",
// backslashes accepted), matching each component case-insensitively against
// the directory's entries. A missing component gives an error wrapping
// fs.ErrNotExist; a path that leaves the volume, ErrEscape.
func (v *Volume) Resolve(rel string) (string, error) {
	p, missing, err := v.resolve(rel)
	if err != nil {
		return "", err
	}
	if missing {
		return "", fmt.Errorf("%s: %w", filepath.Join(v.Root, filepath.FromSlash(strings.ReplaceAll(rel, `\`, "/"))), fs.ErrNotExist)
	}
	return p, nil
}

// ResolveNew is Resolve for a path that may not exist yet (a file about to be
// written): existing components get their on-disk spelling, missing ones
// keep the spelling given.
func (v *Volume) ResolveNew(rel string) (string, error) {
	p, _, err := v.resolve(rel)
	return p, err
}

// Rel returns the volume-relative path (forward slashes) of a host path
// inside the volume.
func (v *Volume) Rel(hostPath string) (string, error) {
	r, err := filepath.Rel(v.Root, hostPath)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: %w", hostPath, ErrEscape)
	}
	return filepath.ToSlash(r), nil
}

func (v *Volume) resolve(rel string) (string, bool, error) {
	parts, err := splitRel(rel)
	if err != nil {
		return "", false, err
	}
	cur := v.Root
	for i, part := range parts {
		name, err := v.lookup(cur, part)
		if errors.Is(err, fs.ErrNotExist) {
			rest := append([]string{cur}, parts[i:]...)
			return filepath.Join(rest...), true, nil
		}
		if err != nil {
			return "", false, err
		}
		next := filepath.Join(cur, name)
		st, err := os.Lstat(next)
		if err != nil {
			return "", false, fmt.Errorf("resolve %s: %w", next, err)
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			if err := v.checkLink(next); err != nil {
				return "", false, err
			}
		}
		cur = next
	}
	return cur, false, nil
}

// checkLink refuses a symbolic link whose target lies outside the volume.
func (v *Volume) checkLink(link string) error {
	target, err := filepath.EvalSymlinks(link)
	if err != nil {
		return fmt.Errorf("resolve link %s: %w", link, err)
	}
	r, err := filepath.Rel(v.realRoot, target)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return fmt.Errorf("%s -> %s: %w", link, target, ErrEscape)
	}
	return nil
}

// lookup finds the entry of dir whose name matches name case-insensitively,
// preferring an exact match.
func (v *Volume) lookup(dir, name string) (string, error) {
	if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
		return name, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return "", fs.ErrNotExist
		}
		return "", fmt.Errorf("read directory %s: %w", dir, err)
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
	_, err := v.Resolve(rel)
	return err == nil
}

// ReadDir lists a volume directory (resolved case-insensitively); a missing
// directory lists as empty.
func (v *Volume) ReadDir(rel string) ([]fs.DirEntry, error) {
	p, err := v.Resolve(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read directory %s: %w", p, err)
	}
	return entries, nil
}

// ReadFile reads a volume file, refusing files larger than limit bytes.
func (v *Volume) ReadFile(rel string, limit int64) ([]byte, error) {
	p, err := v.Resolve(rel)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this reader accepts", p, st.Size(), limit)
	}
	buf, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if int64(len(buf)) > limit {
		return nil, fmt.Errorf("%s: grew past the %d bytes this reader accepts", p, limit)
	}
	return buf, nil
}

func openFile(p string) (*os.File, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	return f, nil
}
