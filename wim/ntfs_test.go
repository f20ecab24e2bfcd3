//go:build linux

package wim

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// TestNTFSRoundTrip: wimlib applies our WIM to an NTFS volume image made by
// mkntfs (through libntfs-3g, without mounting), captures the volume back,
// and this package applies that WIM: the tree is unchanged. The WIM wimlib
// captures from NTFS carries what NTFS adds (security descriptors, reparse
// points as NTFS stores them), so this also exercises reading those.
func TestNTFSRoundTrip(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	mkntfs := testenv.Peer(t, "mkntfs")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	makeTree(t, src)
	ours := filepath.Join(dir, "ours.wim")
	if err := Capture(context.Background(), src, ours, CaptureOptions{Compression: CompressXPRESS, Name: "ntfs"}); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "ntfs.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(64 << 20)
	f.Close()
	runPeer(t, mkntfs, "-F", "-f", "-q", img)
	runPeer(t, wimlib, "apply", ours, "1", img)
	back := filepath.Join(dir, "back.wim")
	runPeer(t, wimlib, "capture", img, back, "back")

	r, err := Open(back)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if problems, err := r.Verify(context.Background(), nil); err != nil || len(problems) > 0 {
		t.Fatalf("verify of wimlib's NTFS capture: %v %v", problems, err)
	}
	image, err := r.Image(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(image.SecurityDescriptors) == 0 {
		t.Errorf("wimlib's NTFS capture has no security descriptors: were they parsed?")
	}
	dest := filepath.Join(dir, "dest")
	if err := r.Apply(context.Background(), 1, dest, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, src, dest)
}
