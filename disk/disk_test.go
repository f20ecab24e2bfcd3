package disk

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// makeRawDisk writes a 48 MiB GPT disk: partition 1 (1..33 MiB, basic
// data) holds pseudo-random data in scattered 64 KiB runs with zeros
// between, so that sparse and allocated clusters alternate.
func makeRawDisk(t *testing.T, dir string) string {
	t.Helper()
	sfdisk := testenv.Peer(t, "sfdisk")
	p := filepath.Join(dir, "disk.raw")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(48 << 20); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(12))
	buf := make([]byte, 64<<10)
	for off := int64(1 << 20); off < 33<<20; off += 64 << 10 * int64(1+rng.Intn(5)) {
		rng.Read(buf)
		if _, err := f.WriteAt(buf, off); err != nil {
			t.Fatal(err)
		}
	}
	// A run of text that compresses well, for qcow2's compressed clusters.
	if _, err := f.WriteAt(bytes.Repeat([]byte("Windows\\System32\\config "), 40000), 20<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cmd := exec.Command(sfdisk, "--no-reread", "--no-tell-kernel", p)
	cmd.Stdin = strings.NewReader("label: gpt\nstart=2048, size=65536, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=\"Windows\"\nstart=67584, size=20480, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	return p
}

func sum(t *testing.T, r io.ReaderAt, size int64, chunk int) [32]byte {
	t.Helper()
	h := sha256.New()
	buf := make([]byte, chunk)
	for off := int64(0); off < size; {
		n, err := r.ReadAt(buf, off)
		if n == 0 && err != nil {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
		if err != nil && err != io.EOF {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
		h.Write(buf[:n])
		off += int64(n)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// TestContainersMatchQemu converts one raw disk with qemu-img into every
// format and subformat read here, and checks that each reads back byte for
// byte as qemu-img itself converts it back to raw.
func TestContainersMatchQemu(t *testing.T) {
	qemu := testenv.Peer(t, "qemu-img")
	dir := t.TempDir()
	rawPath := makeRawDisk(t, dir)
	cases := []struct {
		name, format string
		args         []string
	}{
		{"raw", "raw", nil},
		{"qcow2v3", "qcow2", []string{"-O", "qcow2"}},
		{"qcow2v2", "qcow2", []string{"-O", "qcow2", "-o", "compat=0.10"}},
		{"qcow2-4k", "qcow2", []string{"-O", "qcow2", "-o", "cluster_size=4096"}},
		{"qcow2-2m", "qcow2", []string{"-O", "qcow2", "-o", "cluster_size=2M"}},
		{"qcow2-compressed", "qcow2", []string{"-O", "qcow2", "-c"}},
		{"vhd-dynamic", "vhd-dynamic", []string{"-O", "vpc", "-o", "subformat=dynamic,force_size=on"}},
		{"vhd-fixed", "vhd-fixed", []string{"-O", "vpc", "-o", "subformat=fixed,force_size=on"}},
		{"vhdx-dynamic", "vhdx", []string{"-O", "vhdx"}},
		{"vhdx-fixed", "vhdx", []string{"-O", "vhdx", "-o", "subformat=fixed"}},
		{"vhdx-1m", "vhdx", []string{"-O", "vhdx", "-o", "block_size=1M"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := rawPath
			if c.args != nil {
				p = filepath.Join(dir, c.name+".img")
				run(t, qemu, append(append([]string{"convert", "-f", "raw"}, c.args...), rawPath, p)...)
			}
			// The oracle: qemu's own reading of the image, back to raw.
			back := filepath.Join(dir, c.name+".back")
			// (Named explicitly: qemu would probe a fixed VHD as raw.)
			qfmt := "raw"
			if c.args != nil {
				qfmt = c.args[1]
			}
			run(t, qemu, "convert", "-f", qfmt, "-O", "raw", p, back)
			want, err := os.ReadFile(back)
			if err != nil {
				t.Fatal(err)
			}
			img, err := Open(p)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer img.Close()
			if img.Format() != c.format {
				t.Errorf("Format = %q, want %q", img.Format(), c.format)
			}
			if img.Size() != int64(len(want)) {
				t.Fatalf("Size = %d, qemu-img gives %d", img.Size(), len(want))
			}
			wantSum := sha256.Sum256(want)
			for _, chunk := range []int{1 << 20, 777} {
				if got := sum(t, img, img.Size(), chunk); got != wantSum {
					t.Errorf("content read in %d-byte pieces differs from qemu-img's", chunk)
				}
			}
			// Reads straddling the end are cut short with io.EOF.
			buf := make([]byte, 4096)
			n, err := img.ReadAt(buf, img.Size()-100)
			if n != 100 || err != io.EOF || !bytes.Equal(buf[:100], want[len(want)-100:]) {
				t.Errorf("ReadAt across the end: n=%d err=%v", n, err)
			}
			tab, err := ReadTable(img, img.Size())
			if err != nil {
				t.Fatalf("ReadTable: %v", err)
			}
			if tab.Scheme != "gpt" || len(tab.Partitions) != 2 {
				t.Fatalf("table = %+v", tab)
			}
			p1 := tab.Partitions[0]
			if p1.Start != 1<<20 || p1.Size != 32<<20 || !p1.IsBasicData() || p1.Name != "Windows" {
				t.Errorf("partition 1 = %+v", p1)
			}
		})
	}
}

// TestGPTMatchesSfdisk compares the partition table with sfdisk's JSON dump.
func TestGPTMatchesSfdisk(t *testing.T) {
	sfdisk := testenv.Peer(t, "sfdisk")
	dir := t.TempDir()
	p := makeRawDisk(t, dir)
	var dump struct {
		PartitionTable struct {
			Label      string `json:"label"`
			Partitions []struct {
				Start int64  `json:"start"`
				Size  int64  `json:"size"`
				Type  string `json:"type"`
				UUID  string `json:"uuid"`
				Name  string `json:"name"`
			} `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal([]byte(run(t, sfdisk, "--json", p)), &dump); err != nil {
		t.Fatal(err)
	}
	img, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	tab, err := ReadTable(img, img.Size())
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Partitions) != len(dump.PartitionTable.Partitions) {
		t.Fatalf("%d partitions, sfdisk lists %d", len(tab.Partitions), len(dump.PartitionTable.Partitions))
	}
	for i, w := range dump.PartitionTable.Partitions {
		g := tab.Partitions[i]
		if g.Start != w.Start*512 || g.Size != w.Size*512 || !strings.EqualFold(g.Type, w.Type) || !strings.EqualFold(g.GUID, w.UUID) || g.Name != w.Name {
			t.Errorf("partition %d = %+v, sfdisk %+v", i+1, g, w)
		}
	}
}

// TestMBRLogicalPartitions reads primary and logical partitions as sfdisk
// wrote them.
func TestMBRLogicalPartitions(t *testing.T) {
	sfdisk := testenv.Peer(t, "sfdisk")
	p := filepath.Join(t.TempDir(), "mbr.raw")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 64<<20); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sfdisk, "--no-reread", "--no-tell-kernel", p)
	cmd.Stdin = strings.NewReader("label: dos\nstart=2048, size=20480, type=7\nstart=22528, size=40960, type=5\nstart=24576, size=8192, type=7\nstart=34816, size=8192, type=83\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	img, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	tab, err := ReadTable(img, img.Size())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pt := range tab.Partitions {
		got = append(got, strings.Join([]string{strconv.Itoa(pt.Number), strconv.Itoa(int(pt.Start / 512)), strconv.Itoa(int(pt.Size / 512)), pt.Type}, ","))
	}
	want := "1,2048,20480,0x07 5,24576,8192,0x07 6,34816,8192,0x83"
	if strings.Join(got, " ") != want {
		t.Errorf("partitions %q, want %q", strings.Join(got, " "), want)
	}
}

// TestQcow2Backing follows a backing file beside the overlay and refuses
// one elsewhere, and a chain that loops.
func TestQcow2Backing(t *testing.T) {
	qemu := testenv.Peer(t, "qemu-img")
	qemuIO := testenv.Peer(t, "qemu-io")
	dir := t.TempDir()
	rawPath := makeRawDisk(t, dir)
	base := filepath.Join(dir, "base.qcow2")
	run(t, qemu, "convert", "-f", "raw", "-O", "qcow2", rawPath, base)
	over := filepath.Join(dir, "over.qcow2")
	run(t, qemu, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", over)
	run(t, qemuIO, "-f", "qcow2", "-c", "write -P 0x5a 3M 200k", "-c", "write -z 21M 64k", over)
	back := filepath.Join(dir, "over.back")
	run(t, qemu, "convert", "-O", "raw", over, back)
	want, _ := os.ReadFile(back)
	img, err := Open(over)
	if err != nil {
		t.Fatal(err)
	}
	if got := sum(t, img, img.Size(), 1<<20); got != sha256.Sum256(want) {
		t.Error("overlay over its backing file reads differently from qemu-img")
	}
	img.Close()

	// A backing file named by a path elsewhere is refused.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	far := filepath.Join(sub, "far.qcow2")
	run(t, qemu, "create", "-f", "qcow2", "-b", base, "-F", "qcow2", far)
	if _, err := Open(far); err == nil || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "not beside the image") {
		t.Errorf("backing file elsewhere: err = %v", err)
	}
	// A loop: a.qcow2 -> b.qcow2 -> a.qcow2 (rebased unsafely).
	a, b := filepath.Join(dir, "a.qcow2"), filepath.Join(dir, "b.qcow2")
	run(t, qemu, "create", "-f", "qcow2", a, "48M")
	run(t, qemu, "create", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b)
	run(t, qemu, "rebase", "-u", "-b", "b.qcow2", "-F", "qcow2", a)
	if _, err := Open(b); err == nil || !strings.Contains(err.Error(), "loops") {
		t.Errorf("backing loop: err = %v", err)
	}
}

func execQuiet(name string, args ...string) error {
	return exec.Command(name, args...).Run()
}
