package sample

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reseal/reseal/hive"
)

var testNow = time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)

// writeSample writes a sample into a fresh temporary directory.
func writeSample(t *testing.T, opts Options) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vol")
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	if err := Write(dir, opts); err != nil {
		t.Fatalf("Write(%+v): %v", opts, err)
	}
	return dir
}

// treeHash hashes every path, type and file content below dir.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		io.WriteString(h, filepath.ToSlash(rel)+"\x00")
		if d.IsDir() {
			io.WriteString(h, "dir\x00")
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		io.WriteString(h, "\x00")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// openHive opens a sample hive read-only with reseal's reader.
func openHive(t *testing.T, dir, rel string) *hive.Hive {
	t.Helper()
	h, err := hive.Open(filepath.Join(dir, filepath.FromSlash(rel)), &hive.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s: %v", rel, err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// regValue reads one value, failing the test when it is absent.
func readValue(t *testing.T, h *hive.Hive, key, name string) hive.Value {
	t.Helper()
	k, err := h.Root().OpenKey(key)
	if err != nil {
		t.Fatalf("open key %s: %v", key, err)
	}
	v, err := k.Value(name)
	if err != nil {
		t.Fatalf("%s\\%s: %v", key, name, err)
	}
	return v
}

func readString(t *testing.T, h *hive.Hive, key, name string) string {
	t.Helper()
	s, err := readValue(t, h, key, name).String()
	if err != nil {
		t.Fatalf("%s\\%s: %v", key, name, err)
	}
	return s
}

func readNumber(t *testing.T, h *hive.Hive, key, name string) uint64 {
	t.Helper()
	n, err := readValue(t, h, key, name).Uint64()
	if err != nil {
		t.Fatalf("%s\\%s: %v", key, name, err)
	}
	return n
}

func keyExists(t *testing.T, h *hive.Hive, key string) bool {
	t.Helper()
	_, err := h.Root().OpenKey(key)
	if err != nil && !errors.Is(err, hive.ErrNotExist) {
		t.Fatalf("open key %s: %v", key, err)
	}
	return err == nil
}

func fileExists(dir, rel string) bool {
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	return err == nil
}

func readFile(t *testing.T, dir, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustKey(t *testing.T, root *hive.Key, path string) *hive.Key {
	t.Helper()
	k, err := root.OpenKey(path)
	if err != nil {
		t.Fatalf("open key %s: %v", path, err)
	}
	return k
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
