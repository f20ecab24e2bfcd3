package xpress_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/wim"
)

// TestWimlibAcceptsOurChunks captures a tree into WIMs whose chunks this
// package compresses, then has wimlib verify them and extract them, and
// compares the extracted files with the originals.
func TestWimlibAcceptsOurChunks(t *testing.T) {
	imagex := testenv.Peer(t, "wimlib-imagex")
	src := t.TempDir()
	files := map[string][]byte{}
	rng := rand.New(rand.NewPCG(5, 6))
	add := func(name string, data []byte) {
		files[name] = data
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := os.ReadFile("/usr/local/go/bin/gofmt"); err == nil {
		add("gofmt", b[:min(len(b), 700_000)])
	}
	if b, err := os.ReadFile("/usr/local/go/src/net/http/server.go"); err == nil {
		add("server.go", b)
	}
	random := make([]byte, 100_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	add("random", random)
	add("zeros", make([]byte, 150_000))
	var text bytes.Buffer
	for text.Len() < 70_000 {
		text.WriteString("line " + strconv.Itoa(rng.IntN(1000)) + " of a long repetitive text file\n")
	}
	for _, n := range []int{1, 2, 3, 4095, 4096, 4097, 32768, 65535, 65536, 65537} {
		add("edge"+strconv.Itoa(n), append([]byte(strconv.Itoa(n)), text.Bytes()[:n-1]...))
	}

	for _, chunk := range []int{4096, 32768, 65536} {
		t.Run(strconv.Itoa(chunk), func(t *testing.T) {
			dir := t.TempDir()
			wimPath := filepath.Join(dir, "ours.wim")
			err := wim.Capture(context.Background(), src, wimPath, wim.CaptureOptions{
				Compression: wim.CompressXPRESS, ChunkSize: chunk, Threads: 2,
			})
			if err != nil {
				t.Fatal(err)
			}
			// The chunks must really be compressed, not stored raw.
			total := 0
			for _, data := range files {
				total += len(data)
			}
			st, err := os.Stat(wimPath)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() > int64(total)*6/10 {
				t.Fatalf("WIM of %d bytes of data is %d bytes: not compressed", total, st.Size())
			}
			if out, err := exec.Command(imagex, "verify", wimPath).CombinedOutput(); err != nil {
				t.Fatalf("wimlib-imagex verify: %v\n%s", err, out)
			}
			dest := filepath.Join(dir, "out")
			if out, err := exec.Command(imagex, "apply", wimPath, "1", dest).CombinedOutput(); err != nil {
				t.Fatalf("wimlib-imagex apply: %v\n%s", err, out)
			}
			for name, want := range files {
				got, err := os.ReadFile(filepath.Join(dest, name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: wimlib extracted different content (%d bytes, want %d)", name, len(got), len(want))
				}
			}
		})
	}
}
