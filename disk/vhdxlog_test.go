package disk

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// qemuLogEntry is what the test needs of a log entry qemu wrote.
type qemuLogEntry struct {
	off     int64 // in the log
	seq     uint64
	guid    []byte
	targets []int64 // file offsets of its data descriptors
}

// qemuLog lists the valid-looking entries of the log region of a VHDX.
func qemuLog(_ *testing.T, f *os.File) []qemuLogEntry {
	le := binary.LittleEndian
	hdr := make([]byte, 4096)
	f.ReadAt(hdr, vhdxHeader1)
	logLen, logOff := int64(le.Uint32(hdr[68:])), int64(le.Uint64(hdr[72:]))
	var out []qemuLogEntry
	for o := int64(0); o < logLen; o += 4096 {
		h := make([]byte, 4096)
		f.ReadAt(h, logOff+o)
		if string(h[:4]) != "loge" {
			continue
		}
		e := qemuLogEntry{off: o, seq: le.Uint64(h[16:]), guid: append([]byte(nil), h[32:48]...)}
		for i := 0; i < int(le.Uint32(h[24:])); i++ {
			if d := h[64+32*i:]; string(d[:4]) == "desc" {
				e.targets = append(e.targets, int64(le.Uint64(d[16:])))
			}
		}
		out = append(out, e)
	}
	return out
}

func sparseCopy(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "--sparse=always", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
}

// TestVHDXLogReplayMatchesQemu: a VHDX whose log holds a metadata write
// not yet applied reads as qemu-img reads it after replaying the log
// (qemu-img check -r all on a copy). The log is qemu's own: qemu-io
// allocates 133 blocks (each BAT update one log entry, so the 1 MiB log
// wraps) and is killed with abort. qemu applies each entry and clears the
// header's log GUID at once, so the state of a crash between writing an
// entry and applying it is rebuilt: the header names that entry's GUID and
// the BAT sector it rewrites holds its content from before any write.
// That qemu then refuses to open the image read-only ("needs to be
// replayed") shows it agrees the log is live.
func TestVHDXLogReplayMatchesQemu(t *testing.T) {
	qemuImg := testenv.Peer(t, "qemu-img")
	qemuIO := testenv.Peer(t, "qemu-io")
	dir := t.TempDir()
	pre := filepath.Join(dir, "pre.vhdx")
	run(t, qemuImg, "create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", pre, "640M")
	post := filepath.Join(dir, "post.vhdx")
	sparseCopy(t, pre, post)
	args := []string{"-f", "vhdx", "-c", "write -P 0x11 511M 2M"}
	for i := 1; i <= 130; i++ {
		args = append(args, "-c", "write -P "+strconv.Itoa(i%250+1)+" "+strconv.Itoa(i+1)+"M 4k")
	}
	args = append(args, "-c", "write -P 0x22 600M 4k", "-c", "abort", post)
	exec.Command(qemuIO, args...).Run() // ends with SIGABRT, as asked

	pf, err := os.Open(pre)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	qf, err := os.Open(post)
	if err != nil {
		t.Fatal(err)
	}
	entries := qemuLog(t, qf)
	qf.Close()
	if len(entries) < 128 {
		t.Fatalf("qemu wrote %d log entries; the test needs a wrapped log", len(entries))
	}
	var last, first, end qemuLogEntry
	for _, e := range entries {
		if e.seq > last.seq {
			last = e
		}
		if first.seq == 0 || e.seq < first.seq {
			first = e
		}
		if e.off > end.off {
			end = e
		}
	}
	if last.off > first.off {
		t.Fatalf("the log did not wrap (newest entry at %d, oldest at %d)", last.off, first.off)
	}
	for _, c := range []struct {
		name string
		e    qemuLogEntry
	}{{"newest (wrapped)", last}, {"at the end of the log", end}, {"oldest", first}} {
		t.Run(c.name, func(t *testing.T) {
			if len(c.e.targets) == 0 {
				t.Fatal("entry has no data descriptor")
			}
			dirty := filepath.Join(dir, "dirty.vhdx")
			sparseCopy(t, post, dirty)
			f, err := os.OpenFile(dirty, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			sector := make([]byte, 4096)
			for _, off := range c.e.targets {
				pf.ReadAt(sector, off)
				f.WriteAt(sector, off)
			}
			for _, at := range []int64{vhdxHeader1, vhdxHeader2} {
				h := make([]byte, 4096)
				f.ReadAt(h, at)
				copy(h[48:64], c.e.guid)
				binary.LittleEndian.PutUint32(h[4:], 0)
				binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(h, castagnoli))
				f.WriteAt(h, at)
			}
			f.Close()
			if out, err := exec.Command(qemuImg, "info", dirty).CombinedOutput(); err == nil || !strings.Contains(string(out), "replay") {
				t.Fatalf("qemu-img info of the rebuilt image: %v %s; want the refusal of a live log", err, out)
			}
			ref := filepath.Join(dir, "ref.vhdx")
			sparseCopy(t, dirty, ref)
			run(t, qemuImg, "check", "-q", "-r", "all", ref)
			refRaw := filepath.Join(dir, "ref.raw")
			run(t, qemuImg, "convert", "-f", "vhdx", "-O", "raw", ref, refRaw)
			rf, err := os.Open(refRaw)
			if err != nil {
				t.Fatal(err)
			}
			defer rf.Close()
			st, _ := rf.Stat()

			img, err := Open(dirty)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Size() != st.Size() || sum(t, img, img.Size(), 1<<20) != sum(t, rf, st.Size(), 1<<20) {
				t.Errorf("content differs from qemu's after replay")
			}
			// The replay mattered: the block the entry's BAT sector maps
			// holds data, which the stale sector on disk does not map.
			pat := make([]byte, 4096)
			if c.e.seq == last.seq {
				if _, err := img.ReadAt(pat, 600<<20); err != nil || !bytes.Equal(pat, bytes.Repeat([]byte{0x22}, 4096)) {
					t.Errorf("the newest write (600 MiB) does not read back after replay: %v", err)
				}
			}
			// The rebuilt image's sector is stale: replay has to change it.
			applied := make([]byte, 4096)
			df, _ := os.Open(dirty)
			df.ReadAt(sector, c.e.targets[0])
			df.Close()
			qf, _ := os.Open(post)
			qf.ReadAt(applied, c.e.targets[0])
			qf.Close()
			if bytes.Equal(sector, applied) {
				t.Errorf("the rebuilt image's sector at %d already holds the entry's write", c.e.targets[0])
			}
		})
	}
}

// dirtyVHDX makes a small VHDX whose log holds one live entry, as
// TestVHDXLogReplayMatchesQemu rebuilds it (qemu-io writes a block and is
// killed; the header then names the entry's GUID and the BAT sector is
// stale). It returns "" when qemu-img or qemu-io is missing.
func dirtyVHDX(dir string) string {
	pre, post := filepath.Join(dir, "pre.vhdx"), filepath.Join(dir, "dirty.vhdx")
	if execQuiet("qemu-img", "create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M", pre, "8M") != nil {
		return ""
	}
	os.Remove(post)
	if exec.Command("cp", pre, post).Run() != nil {
		return ""
	}
	exec.Command("qemu-io", "-f", "vhdx", "-c", "write -P 0x5a 3M 4k", "-c", "abort", post).Run()
	f, err := os.OpenFile(post, os.O_RDWR, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	pf, err := os.Open(pre)
	if err != nil {
		return ""
	}
	defer pf.Close()
	entries := qemuLog(nil, f)
	if len(entries) != 1 || len(entries[0].targets) == 0 {
		return ""
	}
	sector := make([]byte, 4096)
	for _, off := range entries[0].targets {
		pf.ReadAt(sector, off)
		f.WriteAt(sector, off)
	}
	for _, at := range []int64{vhdxHeader1, vhdxHeader2} {
		h := make([]byte, 4096)
		f.ReadAt(h, at)
		copy(h[48:64], entries[0].guid)
		binary.LittleEndian.PutUint32(h[4:], 0)
		binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(h, castagnoli))
		f.WriteAt(h, at)
	}
	return post
}

// TestVHDXLogDamaged: a live log whose only entry is damaged (a byte of
// its data sector, so its checksum fails) has no sequence to replay; the
// image reads as qemu-img reads it (as it is, qemu opening it read-only).
// The undamaged image reads with the write in place.
func TestVHDXLogDamaged(t *testing.T) {
	qemuImg := testenv.Peer(t, "qemu-img")
	testenv.Peer(t, "qemu-io")
	dir := t.TempDir()
	p := dirtyVHDX(dir)
	if p == "" {
		t.Fatal("could not make a dirty VHDX with qemu")
	}
	img, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4096)
	img.ReadAt(got, 3<<20)
	img.Close()
	if !bytes.Equal(got, bytes.Repeat([]byte{0x5a}, 4096)) {
		t.Error("the live entry was not replayed")
	}
	b, _ := os.ReadFile(p)
	b[1<<20+4096+100] ^= 1 // the entry's data sector (log at 1 MiB)
	q := filepath.Join(dir, "damaged.vhdx")
	os.WriteFile(q, b, 0o644)
	img, err = Open(q)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	raw := filepath.Join(dir, "damaged.raw")
	run(t, qemuImg, "convert", "-f", "vhdx", "-O", "raw", q, raw)
	want, _ := os.ReadFile(raw)
	if sum(t, img, img.Size(), 1<<20) != sum(t, bytes.NewReader(want), int64(len(want)), 1<<20) {
		t.Error("damaged log: content differs from qemu-img's")
	}
}
