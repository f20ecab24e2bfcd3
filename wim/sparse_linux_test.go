package wim

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// Sparse files are handled as wimlib handles them on Linux: a file with
// holes is captured with FILE_ATTRIBUTE_SPARSE_FILE, and apply leaves runs of
// zeros as holes only in files so marked; a file of written zeros stays
// written (a hole would make a file sparse that Windows never saw as sparse).
// Judged by wimlib: its capture marks the same files, and its apply
// allocates the same way ours does.
func TestSparseFilesLikeWimlib(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(src, 0o755)
	mixed := make([]byte, 8<<20+100)
	copy(mixed, "start")
	copy(mixed[3<<20+17:], "middle")
	copy(mixed[len(mixed)-3:], "end")
	want := map[string][]byte{
		"mixed.bin": mixed,               // sparse: written piece by piece over a hole
		"holes.bin": make([]byte, 4<<20), // sparse: only a size
		"zeros.bin": make([]byte, 4<<20), // not sparse: zeros written
		"small.bin": make([]byte, 4096),
		"odd.bin":   make([]byte, 5000),
		"plain.txt": []byte("plain"),
	}
	for _, name := range []string{"zeros.bin", "small.bin", "odd.bin", "plain.txt"} {
		if err := os.WriteFile(filepath.Join(src, name), want[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeSparse := func(name string, size int64, pieces map[int64]string) {
		f, err := os.Create(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		for off, s := range pieces {
			if _, err := f.WriteAt([]byte(s), off); err != nil {
				t.Fatal(err)
			}
		}
	}
	writeSparse("mixed.bin", int64(len(mixed)), map[int64]string{0: "start", 3<<20 + 17: "middle", int64(len(mixed)) - 3: "end"})
	writeSparse("holes.bin", 4<<20, nil)
	if allocated(t, filepath.Join(src, "holes.bin")) > 0 {
		t.Skip("the temporary directory's file system does not keep holes")
	}
	sparse := map[string]bool{"mixed.bin": true, "holes.bin": true}

	for _, comp := range []string{"none", "xpress", "lzx"} {
		t.Run(comp, func(t *testing.T) {
			dir := t.TempDir()
			theirs := filepath.Join(dir, "wimlib.wim")
			runPeer(t, wimlib, "capture", src, theirs, "--compress="+comp)
			ours := filepath.Join(dir, "ours.wim")
			if err := Capture(context.Background(), src, ours, CaptureOptions{Compression: mustParseCompression(t, comp)}); err != nil {
				t.Fatal(err)
			}
			// The same files are marked sparse by both captures.
			for _, w := range []string{theirs, ours} {
				attrs := imageAttributes(t, w)
				for name := range want {
					if got := attrs[name]&AttrSparseFile != 0; got != sparse[name] {
						t.Errorf("%s: %s marked sparse %v, want %v", filepath.Base(w), name, got, sparse[name])
					}
				}
			}
			// Apply of wimlib's WIM: contents as captured, and holes where
			// wimlib's own apply leaves them.
			r, err := Open(theirs)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			dest := filepath.Join(dir, "dest")
			if err := r.Apply(context.Background(), 1, dest, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			ref := filepath.Join(dir, "ref")
			runPeer(t, wimlib, "apply", theirs, "1", ref)
			for name, data := range want {
				got, err := os.ReadFile(filepath.Join(dest, name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Errorf("%s: contents differ (%d bytes, want %d)", name, len(got), len(data))
				}
				ourHoles := allocated(t, filepath.Join(dest, name)) < int64(len(data))/2
				theirHoles := allocated(t, filepath.Join(ref, name)) < int64(len(data))/2
				if ourHoles != theirHoles || ourHoles != (sparse[name] && len(data) >= 1<<20) {
					t.Errorf("%s: holes after our apply %v, after wimlib's %v, sparse %v", name, ourHoles, theirHoles, sparse[name])
				}
			}
		})
	}
}

// allocated returns the bytes the file system allocated for path.
func allocated(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// imageAttributes maps the names of image 1's root files to their attributes.
func imageAttributes(t *testing.T, wimPath string) map[string]uint32 {
	t.Helper()
	img := readImage(t, wimPath, 1)
	attrs := map[string]uint32{}
	for _, f := range img.Root.Children {
		attrs[f.Name] = f.Attributes
	}
	return attrs
}

func mustParseCompression(t *testing.T, name string) Compression {
	t.Helper()
	c, err := ParseCompression(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
