package wim

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// FuzzOpen feeds arbitrary bytes to the header, blob table, XML and metadata
// parsers and to Verify: errors are fine, panics and hangs are not. The
// seeds are real WIMs: ours in each compression and, when wimlib is
// installed, wimlib's (with an integrity table and a solid resource).
func FuzzOpen(f *testing.F) {
	src := filepath.Join(f.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "d", "e"), 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(src, "d", "b.bin"), bytes.Repeat([]byte("abc"), 20000), 0o644)
	os.Link(filepath.Join(src, "a.txt"), filepath.Join(src, "d", "hard"))
	os.Symlink("../a.txt", filepath.Join(src, "d", "link"))
	for i, comp := range []Compression{CompressNone, CompressXPRESS, CompressLZX, CompressLZMS} {
		p := filepath.Join(f.TempDir(), "ours.wim")
		if err := Capture(context.Background(), src, p, CaptureOptions{Compression: comp, Check: i == 0, ChunkSize: 32768, Threads: 1}); err != nil {
			f.Fatal(err)
		}
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	if wimlib, err := exec.LookPath("wimlib-imagex"); err == nil {
		for _, args := range [][]string{{"--compress=none", "--check"}, {"--solid"}, {"--solid", "--solid-chunk-size=32768"}, {"--compress=xpress"}} {
			p := filepath.Join(f.TempDir(), "wimlib.wim")
			os.Remove(p)
			if out, err := exec.Command(wimlib, append([]string{"capture", src, p}, args...)...).CombinedOutput(); err != nil {
				f.Fatalf("%v: %s", err, out)
			}
			data, _ := os.ReadFile(p)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, info := range r.Images() {
			img, err := r.Image(info.Index)
			if err != nil {
				continue
			}
			if plan, err := planApply(img); err == nil {
				plan.resolveLinks(r, r.header.RPFix(), newDecoders())
			}
		}
		r.Verify(ctx, nil)
	})
}

// FuzzMetadata feeds arbitrary bytes to the metadata resource parser alone
// (security data, directory entries, stream entries), seeded with real
// metadata resources, and writes back what it parsed: the writer must
// produce a resource the parser reads to the same tree.
func FuzzMetadata(f *testing.F) {
	src := filepath.Join(f.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "d", "e"), 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o644)
	os.Link(filepath.Join(src, "a.txt"), filepath.Join(src, "d", "hard"))
	os.Symlink("../a.txt", filepath.Join(src, "d", "link"))
	p := filepath.Join(f.TempDir(), "x.wim")
	if err := Capture(context.Background(), src, p, CaptureOptions{}); err != nil {
		f.Fatal(err)
	}
	r, err := Open(p)
	if err != nil {
		f.Fatal(err)
	}
	meta, err := r.readMetadata(1)
	r.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(meta)
	root := &File{Attributes: AttrDirectory | AttrReparsePoint, SecurityID: 0, ReparseTag: ReparseTagMountPoint,
		NamedStreams: []Stream{{Name: "ads", Hash: Hash{1}}}}
	root.Children = []*File{{Name: "x", ShortName: "X~1", Attributes: AttrNormal, SecurityID: -1, Data: Stream{Hash: Hash{2}}, Parent: root}}
	f.Add(marshalMetadata(root, [][]byte{{1, 0, 4, 0x80, 20: 0}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := parseMetadata(data, 1)
		if err != nil {
			return
		}
		again, err := parseMetadata(marshalMetadata(img.Root, img.SecurityDescriptors), 1)
		if err != nil {
			t.Fatalf("our own metadata does not parse: %v", err)
		}
		var a, b []string
		img.Root.Walk(func(f *File) error {
			a = append(a, fmt.Sprintf("%s %x %d %v %v %v", f.Path(), f.Attributes, f.SecurityID, f.Data.Hash, f.Reparse.Hash, f.NamedStreams))
			return nil
		})
		again.Root.Walk(func(f *File) error {
			b = append(b, fmt.Sprintf("%s %x %d %v %v %v", f.Path(), f.Attributes, f.SecurityID, f.Data.Hash, f.Reparse.Hash, f.NamedStreams))
			return nil
		})
		sort.Strings(a)
		sort.Strings(b)
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Fatalf("round trip differs:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	})
}

// A reparse-point directory with entries below it (found by FuzzMetadata)
// keeps them through a write and a read.
func TestMetadataReparseDirWithChildren(t *testing.T) {
	root := &File{Attributes: AttrDirectory, SecurityID: -1}
	d := &File{Name: "d", Attributes: AttrDirectory | AttrReparsePoint, ReparseTag: ReparseTagMountPoint, SecurityID: -1, Parent: root}
	e := &File{Name: "e", Attributes: AttrDirectory, SecurityID: -1, Parent: d}
	root.Children, d.Children = []*File{d}, []*File{e}
	img, err := parseMetadata(marshalMetadata(root, nil), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Root.Children) != 1 || len(img.Root.Children[0].Children) != 1 || img.Root.Children[0].Children[0].Name != "e" {
		t.Fatalf("tree after a round trip: %+v", img.Root.Children)
	}
	if _, err := planApply(img); err == nil {
		t.Error("apply accepted a junction with entries below it")
	}
}
