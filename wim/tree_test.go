//go:build linux

package wim

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeTree builds a source tree with the cases the format must carry:
// nested and empty directories, empty and large files, Unicode names, hard
// links, relative and absolute symbolic links, old and precise timestamps.
func makeTree(t *testing.T, root string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"sub/deep/deeper", "empty dir", "Ünïcødé 目录"} {
		must(os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	write := func(name string, data []byte) {
		must(os.WriteFile(filepath.Join(root, name), data, 0o644))
	}
	write("hello.txt", []byte("hello, world\n"))
	write("empty.txt", nil)
	big := make([]byte, 300_000)
	for i := range big {
		big[i] = byte(i*7 + i/1000)
	}
	write("sub/big.bin", big)
	write("big-copy.bin", big) // a multi-chunk duplicate: written, then dropped by the dedup
	write("sub/deep/same-as-hello.txt", []byte("hello, world\n"))
	write("Ünïcødé 目录/файл €.txt", []byte("ünïcødé\n"))
	write("sub/deep/deeper/x", bytes.Repeat([]byte("compressible "), 10000))
	must(os.Link(filepath.Join(root, "hello.txt"), filepath.Join(root, "sub/hardlink.txt")))
	must(os.Link(filepath.Join(root, "sub/big.bin"), filepath.Join(root, "sub/deep/big-link.bin")))
	must(os.Symlink("../hello.txt", filepath.Join(root, "sub/rel-link")))
	must(os.Symlink("deep", filepath.Join(root, "sub/dir-link")))
	must(os.Symlink(filepath.Join(root, "sub/big.bin"), filepath.Join(root, "abs-link")))
	must(os.Symlink("missing-target", filepath.Join(root, "dangling")))
	old := time.Date(1999, 12, 31, 23, 59, 58, 123456700, time.UTC)
	must(os.Chtimes(filepath.Join(root, "hello.txt"), old, old))
	must(os.Chtimes(filepath.Join(root, "empty dir"), old, old))
	must(os.Chtimes(filepath.Join(root, "sub/deep"), old.Add(time.Hour), old.Add(time.Hour)))
}

// treeSummary describes a tree in a form two trees can be compared with:
// one line per entry with type, size, contents hash, link target, mtime at
// 100 ns and the set of names hard-linked with it.
func treeSummary(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	inodes := map[uint64][]string{}
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		mt := info.ModTime().UnixNano() / 100
		var desc string
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if filepath.IsAbs(target) {
				if r, err := filepath.Rel(root, target); err == nil && !strings.HasPrefix(r, "..") {
					target = "<root>/" + r
				}
			}
			desc = fmt.Sprintf("link %s mtime=%d", target, mt)
		case info.IsDir():
			if rel == "." {
				mt = 0 // the root's own times are not part of the image contract
			}
			desc = fmt.Sprintf("dir mtime=%d", mt)
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc = fmt.Sprintf("file size=%d sum=%x mtime=%d", len(data), sha1Sum(data), mt)
			st := info.Sys().(*syscall.Stat_t)
			if st.Nlink > 1 {
				inodes[st.Ino] = append(inodes[st.Ino], rel)
			}
		}
		lines = append(lines, rel+": "+desc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, names := range inodes {
		sort.Strings(names)
		groups = append(groups, "hardlinks "+strings.Join(names, " = "))
	}
	sort.Strings(groups)
	sort.Strings(lines)
	return strings.Join(append(lines, groups...), "\n")
}

func sha1Sum(b []byte) Hash {
	var h Hash
	s := sha1Hash(b)
	copy(h[:], s[:])
	return h
}

func compareTrees(t *testing.T, want, got string) {
	t.Helper()
	a, b := treeSummary(t, want), treeSummary(t, got)
	if a != b {
		al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
		for i := 0; i < max(len(al), len(bl)); i++ {
			var x, y string
			if i < len(al) {
				x = al[i]
			}
			if i < len(bl) {
				y = bl[i]
			}
			if x != y {
				t.Errorf("trees differ:\n want %s\n  got %s", x, y)
				return
			}
		}
	}
}
