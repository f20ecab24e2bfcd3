//go:build linux

package wim

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corruptCase builds a WIM from the test tree, damages it and checks that
// Verify reports a problem and Apply fails without leaving a partial file
// under a final name.
func captureTestWIM(t *testing.T, comp Compression) (string, string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	wimPath := filepath.Join(t.TempDir(), "x.wim")
	if err := Capture(context.Background(), src, wimPath, CaptureOptions{Compression: comp, Name: "x"}); err != nil {
		t.Fatal(err)
	}
	return src, wimPath
}

// bigBlob returns the blob of sub/big.bin.
func bigBlob(t *testing.T, wimPath string) (blob, Hash) {
	t.Helper()
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := r.Image(1)
	if err != nil {
		t.Fatal(err)
	}
	var h Hash
	img.Root.Walk(func(f *File) error {
		if f.Path() == "/sub/big.bin" {
			h = f.Data.Hash
		}
		return nil
	})
	b := r.blobs[h]
	if b == nil {
		t.Fatal("big.bin blob not found")
	}
	return *b, h
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

func expectRefused(t *testing.T, wimPath string, wantInVerify string) {
	t.Helper()
	r, err := Open(wimPath)
	if err != nil {
		if !errors.Is(err, ErrFormat) {
			t.Fatalf("open: %v, want an ErrFormat", err)
		}
		return // refused at open: verify and apply cannot start
	}
	defer r.Close()
	problems, err := r.Verify(context.Background(), nil)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(problems) == 0 {
		t.Fatal("verify found no problem")
	}
	found := false
	for _, p := range problems {
		if strings.Contains(p.String(), wantInVerify) {
			found = true
		}
	}
	if !found {
		t.Errorf("verify problems %v do not mention %q", problems, wantInVerify)
	}
	dest := filepath.Join(t.TempDir(), "dest")
	if err := r.Apply(context.Background(), 1, dest, ApplyOptions{}); err == nil {
		t.Fatal("apply of a corrupted WIM succeeded")
	}
	filepath.Walk(dest, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(p), ".reseal-") {
			t.Errorf("apply left a temporary file %s", p)
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(dest, "sub", "big.bin")); err == nil {
		t.Errorf("apply left big.bin although its data is corrupt")
	}
}

func TestCorruptedWIMs(t *testing.T) {
	t.Run("flipped byte in a compressed chunk", func(t *testing.T) {
		_, wimPath := captureTestWIM(t, CompressXPRESS)
		b, h := bigBlob(t, wimPath)
		if !b.res.compressed() {
			t.Fatal("big.bin was stored uncompressed")
		}
		flipByte(t, wimPath, b.res.Offset+b.res.StoredSize/2)
		expectRefused(t, wimPath, h.String())
	})
	t.Run("flipped byte in uncompressed data (wrong hash)", func(t *testing.T) {
		_, wimPath := captureTestWIM(t, CompressNone)
		b, h := bigBlob(t, wimPath)
		flipByte(t, wimPath, b.res.Offset+1000)
		expectRefused(t, wimPath, h.String())
	})
	t.Run("wrong hash in the blob table", func(t *testing.T) {
		_, wimPath := captureTestWIM(t, CompressNone)
		r, err := Open(wimPath)
		if err != nil {
			t.Fatal(err)
		}
		bt := r.header.blobTable
		r.Close()
		_, h := bigBlob(t, wimPath)
		data, _ := os.ReadFile(wimPath)
		for off := bt.Offset; off < bt.Offset+bt.StoredSize; off += blobEntrySize {
			if Hash(data[off+30:off+50]) == h {
				flipByte(t, wimPath, off+40)
			}
		}
		expectRefused(t, wimPath, "which the WIM does not contain")
	})
	t.Run("truncated", func(t *testing.T) {
		_, wimPath := captureTestWIM(t, CompressXPRESS)
		st, _ := os.Stat(wimPath)
		if err := os.Truncate(wimPath, st.Size()/2); err != nil {
			t.Fatal(err)
		}
		expectRefused(t, wimPath, "")
	})
	t.Run("blob table entry past the end", func(t *testing.T) {
		_, wimPath := captureTestWIM(t, CompressLZX)
		r, err := Open(wimPath)
		if err != nil {
			t.Fatal(err)
		}
		bt, size := r.header.blobTable, r.size
		r.Close()
		f, _ := os.OpenFile(wimPath, os.O_RDWR, 0)
		var off [8]byte
		binary.LittleEndian.PutUint64(off[:], uint64(size+4096))
		f.WriteAt(off[:], bt.Offset+8) // first entry's offset
		f.Close()
		expectRefused(t, wimPath, "")
	})
	t.Run("metadata pointing at itself", func(t *testing.T) {
		// A directory whose child list is its own entry: a cycle.
		root := &File{Attributes: AttrDirectory, SecurityID: -1}
		sub := &File{Name: "loop", Attributes: AttrDirectory, SecurityID: -1, Parent: root}
		root.Children = []*File{sub}
		buf := marshalMetadata(root, nil)
		// Point sub's subdir offset at the list that contains sub.
		listOff := int64(8) + entryTotalLen(root) + 8
		binary.LittleEndian.PutUint64(buf[listOff+16:], uint64(listOff))
		if _, err := parseMetadata(buf, 1); err == nil || !errors.Is(err, ErrFormat) {
			t.Fatalf("cyclic metadata parsed: %v", err)
		}
	})
}
