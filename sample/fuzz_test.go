package sample

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// FuzzResaltWAL: any input is refused with an error or re-salted without
// a panic; a re-salted real WAL still opens with every row.
func FuzzResaltWAL(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "vol")
	if err := Write(dir, Options{Seed: 1, Now: testNow}); err != nil {
		f.Fatal(err)
	}
	wal, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(srdPath)) + "-wal")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(wal, uint32(1), uint32(2))
	f.Add(wal[:walHeaderSize], uint32(0), uint32(0))
	f.Add([]byte{}, uint32(0), uint32(0))
	f.Fuzz(func(t *testing.T, b []byte, s1, s2 uint32) {
		out, err := resaltWAL(b, [2]uint32{s1, s2})
		if err != nil {
			return
		}
		if len(out) != len(b) {
			t.Fatalf("re-salting changed the length %d -> %d", len(b), len(out))
		}
		again, err := resaltWAL(out, [2]uint32{s1, s2})
		if err != nil || !bytes.Equal(again, out) {
			t.Fatal("re-salting is not idempotent")
		}
	})
}

// TestResaltedWALIsValid: SQLite accepts a WAL re-salted to other values
// (it ignores frames whose checksums or salts do not match, so the rows
// would vanish if the checksums were wrong).
func TestResaltedWALIsValid(t *testing.T) {
	dir := writeSample(t, Options{Seed: 6})
	_, rows := srdInstalls(t, dir, true)
	src := filepath.Join(dir, filepath.FromSlash(srdPath))
	wal, _ := os.ReadFile(src + "-wal")
	for _, salts := range [][2]uint32{{0, 0}, {0xdeadbeef, 0x01020304}, {0xffffffff, 0xffffffff}} {
		out, err := resaltWAL(wal, salts)
		if err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		main, _ := os.ReadFile(src)
		os.WriteFile(filepath.Join(tmp, "x.srd"), main, 0o644)
		os.WriteFile(filepath.Join(tmp, "x.srd-wal"), out, 0o644)
		db, err := sql.Open("sqlite", "file:"+filepath.Join(tmp, "x.srd"))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = db.QueryRow("SELECT count(*) FROM PackageUser").Scan(&n)
		db.Close()
		if err != nil || n != rows {
			t.Errorf("salts %x: %d rows (%v), want %d", salts, n, err, rows)
		}
	}
	// A flipped byte in a page breaks its frame's checksum: SQLite then
	// stops reading the WAL there, and the newest rows are gone.
	broken := append([]byte(nil), wal...)
	broken[walHeaderSize+walFrameHeaderSize+100] ^= 0xff
	tmp := t.TempDir()
	main, _ := os.ReadFile(src)
	os.WriteFile(filepath.Join(tmp, "x.srd"), main, 0o644)
	os.WriteFile(filepath.Join(tmp, "x.srd-wal"), broken, 0o644)
	db, _ := sql.Open("sqlite", "file:"+filepath.Join(tmp, "x.srd"))
	var n int
	db.QueryRow("SELECT count(*) FROM PackageUser").Scan(&n)
	db.Close()
	if n == rows {
		t.Error("a corrupted WAL frame was still applied: the checksum test proves nothing")
	}
}
