// Package disktest builds real disk images for tests with the peer tools
// the issue names: a sample Windows tree captured by wimlib-imagex, applied
// by wimlib-imagex onto a volume made by mkntfs, placed in a GPT disk
// partitioned by sfdisk, converted by qemu-img.
package disktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/sample"
)

// Run runs a peer tool, failing the test with its output on error.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Volume builds a 256 MiB NTFS volume image in dir: mkntfs, then
// wimlib-imagex apply of a WIM (dir/src.wim) captured from a sample Windows
// tree (dir/tree) with hard links, a symbolic link, a sparse and a large
// file added; then an alternate data stream written with ntfscp.
func Volume(t testing.TB, dir string) (vol, tree string) {
	t.Helper()
	return VolumeFrom(t, dir, sample.Options{})
}

// VolumeFrom is Volume with the sample tree written with opts (blockers,
// a dirty SYSTEM hive ...).
func VolumeFrom(t testing.TB, dir string, opts sample.Options) (vol, tree string) {
	t.Helper()
	wimlib := testenv.Peer(t, "wimlib-imagex")
	mkntfs := testenv.Peer(t, "mkntfs")
	ntfscp := testenv.Peer(t, "ntfscp")
	tree = filepath.Join(dir, "tree")
	if err := sample.Write(tree, opts); err != nil {
		t.Fatal(err)
	}
	links := filepath.Join(tree, "Links")
	os.Mkdir(links, 0o755)
	os.WriteFile(filepath.Join(links, "a.txt"), []byte("hello\n"), 0o644)
	os.Link(filepath.Join(links, "a.txt"), filepath.Join(links, "hard.txt"))
	os.Symlink("a.txt", filepath.Join(links, "sym.txt"))
	big := make([]byte, 3<<20+123)
	for i := range big {
		big[i] = byte(i*7 + i>>9)
	}
	os.WriteFile(filepath.Join(links, "big.bin"), big, 0o644)
	sp, _ := os.Create(filepath.Join(links, "sparse.bin"))
	sp.WriteAt([]byte("tail"), 50<<20)
	sp.Close()
	wim := filepath.Join(dir, "src.wim")
	Run(t, wimlib, "capture", tree, wim)
	vol = filepath.Join(dir, "vol.img")
	f, _ := os.Create(vol)
	f.Truncate(256 << 20)
	f.Close()
	Run(t, mkntfs, "-F", "-Q", "-q", "-L", "Windows", vol)
	Run(t, wimlib, "apply", wim, "1", vol)
	ads := filepath.Join(dir, "ads.txt")
	os.WriteFile(ads, []byte("stream data\n"), 0o644)
	Run(t, ntfscp, "-q", "-N", "Zone.Identifier", vol, ads, "Links/a.txt")
	return vol, tree
}

// GPTDisk places the volume at vol as partition 2 of a raw GPT disk
// (partition 1 a 16 MiB EFI system partition, left empty) and returns the
// disk's path.
func GPTDisk(t testing.TB, dir, vol string) string {
	t.Helper()
	sfdisk := testenv.Peer(t, "sfdisk")
	st, err := os.Stat(vol)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "disk.raw")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	const volStart = 17 << 20
	if err := f.Truncate(volStart + st.Size() + 1<<20); err != nil {
		t.Fatal(err)
	}
	src, _ := os.Open(vol)
	buf := make([]byte, 1<<20)
	for off := int64(0); ; off += int64(len(buf)) {
		n, _ := src.ReadAt(buf, off)
		if n == 0 {
			break
		}
		f.WriteAt(buf[:n], volStart+off)
	}
	src.Close()
	f.Close()
	cmd := exec.Command(sfdisk, "--no-reread", "--no-tell-kernel", p)
	cmd.Stdin = strings.NewReader("label: gpt\nstart=2048, size=32768, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=34816, size=" +
		itoa(st.Size()/512) + ", type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	return p
}

// Convert converts a raw disk with qemu-img into format ("qcow2", "vhdx",
// "vpc") beside it.
func Convert(t testing.TB, raw, format string, opts ...string) string {
	t.Helper()
	qemu := testenv.Peer(t, "qemu-img")
	out := strings.TrimSuffix(raw, filepath.Ext(raw)) + "." + map[string]string{"qcow2": "qcow2", "vhdx": "vhdx", "vpc": "vhd"}[format]
	Run(t, qemu, append(append([]string{"convert", "-f", "raw", "-O", format}, opts...), raw, out)...)
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
