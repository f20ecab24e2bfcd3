//go:build linux

package wim

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/reseal/reseal/internal/testenv"
	"golang.org/x/sys/unix"
)

// mountNTFS3G mounts an NTFS image with ntfs-3g (named streams as user.*
// extended attributes) and returns the mount point; it is unmounted at the
// end of the test. The test is skipped where FUSE is not usable.
func mountNTFS3G(t *testing.T, img string) string {
	t.Helper()
	ntfs3g := testenv.Peer(t, "ntfs-3g")
	if os.Geteuid() != 0 {
		t.Skip("mounting with ntfs-3g needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command(ntfs3g, "-o", "streams_interface=xattr", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("ntfs-3g mount failed (no FUSE here?): %v %s", err, out)
	}
	t.Cleanup(func() {
		if isMounted(mnt) {
			unmount(t, mnt)
		}
	})
	return mnt
}

func isMounted(dir string) bool {
	data, _ := os.ReadFile("/proc/self/mounts")
	return strings.Contains(string(data), " "+dir+" ")
}

func unmount(t *testing.T, mnt string) {
	t.Helper()
	for i := 0; i < 50; i++ {
		if exec.Command("umount", mnt).Run() == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("could not unmount %s", mnt)
}

// imageFacts lists per path what NTFS metadata an image carries, in a form
// two images can be compared with.
func imageFacts(t *testing.T, wimPath string) map[string]string {
	t.Helper()
	img := readImage(t, wimPath, 1)
	facts := map[string]string{}
	img.Root.Walk(func(f *File) error {
		var sd string
		if f.SecurityID >= 0 {
			sd = fmt.Sprintf("%x", sha1Hash(img.SecurityDescriptors[f.SecurityID]))[:12]
		}
		var streams []string
		for _, s := range f.NamedStreams {
			streams = append(streams, s.Name+"="+s.Hash.String()[:12])
		}
		sort.Strings(streams)
		facts[f.Path()] = fmt.Sprintf("attr=%#x sd=%s short=%q data=%s reparse=%#x:%s streams=%v ctime=%d mtime=%d",
			f.Attributes, sd, f.ShortName, f.Data.Hash.String()[:12], f.ReparseTag, f.Reparse.Hash.String()[:12], streams, f.CreationTime, f.LastWriteTime)
		return nil
	})
	return facts
}

// TestNTFS3GCaptureAndApply: capturing an NTFS-3G mount records what wimlib
// records when it captures the same volume directly: attributes, security
// descriptors, DOS names, reparse data, named streams and timestamps; and
// applying that WIM onto an NTFS-3G mount writes them all back.
func TestNTFS3GCaptureAndApply(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	mkntfs := testenv.Peer(t, "mkntfs")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	makeTree(t, src)
	ours := filepath.Join(dir, "ours.wim")
	if err := Capture(context.Background(), src, ours, CaptureOptions{Compression: CompressXPRESS}); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "ntfs.img")
	f, _ := os.Create(img)
	f.Truncate(64 << 20)
	f.Close()
	runPeer(t, mkntfs, "-F", "-f", "-q", img)
	runPeer(t, wimlib, "apply", ours, "1", img)

	// Give the volume what Linux trees lack: a named stream, a DOS name, a
	// hidden attribute.
	mnt := mountNTFS3G(t, img)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(unix.Lsetxattr(filepath.Join(mnt, "hello.txt"), "user.Zone.Identifier", []byte("[ZoneTransfer]\r\nZoneId=3\r\n"), 0))
	must(unix.Lsetxattr(filepath.Join(mnt, "sub", "big.bin"), "user.empty", nil, 0))
	must(unix.Lsetxattr(filepath.Join(mnt, "Ünïcødé 目录"), xattrDOSName, []byte("UNICOD~1"), 0))
	var attr [4]byte
	binary.LittleEndian.PutUint32(attr[:], AttrArchive|AttrHidden)
	must(unix.Lsetxattr(filepath.Join(mnt, "empty.txt"), xattrAttrib, attr[:], 0))
	unmount(t, mnt)

	ref := filepath.Join(dir, "wimlib.wim")
	runPeer(t, wimlib, "capture", img, ref, "ref")
	mnt = mountNTFS3G(t, img)
	back := filepath.Join(dir, "back.wim")
	if err := Capture(context.Background(), mnt, back, CaptureOptions{Compression: CompressLZX, Name: "back"}); err != nil {
		t.Fatal(err)
	}
	unmount(t, mnt)
	runPeer(t, wimlib, "verify", back)

	want, got := imageFacts(t, ref), imageFacts(t, back)
	for path, w := range want {
		if path == "/" {
			continue // the root's security descriptor is not readable through NTFS-3G
		}
		if g, ok := got[path]; !ok {
			t.Errorf("%s: missing from our capture (wimlib: %s)", path, w)
		} else if g != w {
			t.Errorf("%s:\n wimlib %s\n    ours %s", path, w, g)
		}
	}
	for path := range got {
		if _, ok := want[path]; !ok {
			t.Errorf("%s: in our capture but not in wimlib's", path)
		}
	}
	if !strings.Contains(got["/hello.txt"], "Zone.Identifier=") {
		t.Errorf("named stream not captured: %s", got["/hello.txt"])
	}

	// Apply our capture onto a fresh NTFS-3G mount; wimlib captures that
	// volume: it must carry the same NTFS metadata.
	img2 := filepath.Join(dir, "ntfs2.img")
	f, _ = os.Create(img2)
	f.Truncate(64 << 20)
	f.Close()
	runPeer(t, mkntfs, "-F", "-f", "-q", img2)
	mnt = mountNTFS3G(t, img2)
	r, err := Open(back)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(context.Background(), 1, mnt, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	unmount(t, mnt)
	again := filepath.Join(dir, "again.wim")
	runPeer(t, wimlib, "capture", img2, again, "again")
	applied := imageFacts(t, again)
	for path, w := range got {
		if path == "/" {
			continue
		}
		if g := applied[path]; g != w {
			t.Errorf("applied to NTFS-3G: %s:\n want %s\n  got %s", path, w, g)
		}
	}
}
