package ntfs

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/disktest"
	"github.com/reseal/reseal/internal/testenv"
)

func runCmd(t testing.TB, name string, args ...string) string { return disktest.Run(t, name, args...) }

func makeVolume(t testing.TB, dir string) (vol, tree string) { return disktest.Volume(t, dir) }

func openTree(t testing.TB, vol string) (*Volume, *Tree) {
	t.Helper()
	f, err := os.Open(vol)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	v, err := Open(f, st.Size())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	tr, err := v.ReadTree(context.Background(), nil)
	if err != nil {
		t.Fatalf("ReadTree: %v", err)
	}
	return v, tr
}

// TestReadMatchesSourceTree: every file of the tree wimlib applied reads
// back with the same content and shape.
func TestReadMatchesSourceTree(t *testing.T) {
	dir := t.TempDir()
	vol, tree := makeVolume(t, dir)
	v, tr := openTree(t, vol)
	if d := v.Dirty(); len(d) != 0 {
		t.Errorf("a volume NTFS-3G closed is reported dirty: %v", d)
	}
	if v.Label() != "Windows" {
		t.Errorf("label %q", v.Label())
	}
	// What wimlib captured (its default configuration leaves out
	// $Recycle.Bin, pagefile.sys and the like) is what the volume holds.
	inWIM := map[string]bool{}
	for _, l := range strings.Split(runCmd(t, testenv.Peer(t, "wimlib-imagex"), "dir", filepath.Join(dir, "src.wim"), "1"), "\n") {
		inWIM[strings.TrimPrefix(l, "/")] = true
	}
	var want, got []string
	filepath.Walk(tree, func(p string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(tree, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if !inWIM[rel] {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			want = append(want, rel+" symlink")
		case info.IsDir():
			want = append(want, rel+"/")
		default:
			b, _ := os.ReadFile(p)
			want = append(want, fmt.Sprintf("%s %x", rel, sha256.Sum256(b)))
		}
		return nil
	})
	var walk func(d *File, prefix string)
	walk = func(d *File, prefix string) {
		for _, e := range tr.Children(d) {
			rel := prefix + e.Name
			switch {
			case e.File.ReparseTag() != 0:
				got = append(got, rel+" symlink")
			case e.File.Dir:
				got = append(got, rel+"/")
				walk(e.File, rel+"/")
			default:
				r, err := e.File.OpenStream("")
				if err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				h := sha256.New()
				io.Copy(h, io.NewSectionReader(r, 0, r.Size()))
				got = append(got, fmt.Sprintf("%s %x", rel, h.Sum(nil)))
			}
		}
	}
	walk(tr.Root(), "")
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tree differs:\n got %d entries\nwant %d entries\n got: %v\nwant: %v", len(got), len(want), got[:min(5, len(got))], want[:min(5, len(want))])
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("first difference: got %q want %q", got[i], want[i])
				break
			}
		}
	}
	a, err := tr.Lookup(`links\A.TXT`)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Links) != 2 {
		t.Errorf("a.txt has %d links, want 2 (hard link)", len(a.Links))
	}
	if len(a.Streams) != 2 || a.Streams[1].Name != "Zone.Identifier" || a.Streams[1].Size != 12 {
		t.Errorf("a.txt streams %+v", a.Streams)
	}
	sd, err := a.SecurityDescriptor()
	if err != nil || len(sd) < 20 || sd[0] != 1 {
		t.Errorf("a.txt security descriptor %x, %v", sd, err)
	}
	sp, _ := tr.Lookup("Links/sparse.bin")
	if sp == nil || sp.Streams[0].Size != 50<<20+4 {
		t.Errorf("sparse.bin %+v", sp)
	}
}
