//go:build linux

package wim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// makeManyFilesTree adds to makeTree's cases many small files of text and
// machine code, the shape of a Windows image, so that a solid chunk holds
// many blobs and blobs straddle chunks.
func makeManyFilesTree(t *testing.T, root string) {
	t.Helper()
	makeTree(t, root)
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go command for sample data: %v", err)
	}
	exe, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "bin", "gofmt"))
	if err != nil {
		t.Skipf("no gofmt binary for sample data: %v", err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	words := strings.Fields("system32 drivers config registry hive answer file sysprep generalize image apply capture solid chunk resource")
	for i := range 400 {
		dir := filepath.Join(root, "many", fmt.Sprintf("d%02d", i%23))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var data []byte
		switch i % 3 {
		case 0:
			for len(data) < rng.IntN(20_000) {
				data = append(data, words[rng.IntN(len(words))]...)
				data = append(data, ' ')
			}
		case 1:
			start := rng.IntN(len(exe) - 70_000)
			data = exe[start : start+rng.IntN(60_000)]
		default:
			data = []byte(fmt.Sprintf("file %d\n", i%50)) // many duplicates
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.dat", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestApplyLZMSLikeWimlib: WIMs that wimlib compresses with LZMS, non-solid
// and solid (its default 64 MiB solid chunks, and 64 KiB ones so that
// hundreds of small files share chunks), two images each, verify with this
// package and apply to trees identical to what wimlib-imagex apply makes of
// the same WIM; applying and verifying decode each solid chunk once.
func TestApplyLZMSLikeWimlib(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src := filepath.Join(t.TempDir(), "src")
	makeManyFilesTree(t, src)
	for _, args := range [][]string{
		{"--compress=LZMS"},
		{"--compress=LZMS", "--chunk-size=1048576"},
		{"--solid"},
		{"--solid", "--solid-chunk-size=65536"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			wimPath := filepath.Join(t.TempDir(), "x.wim")
			runPeer(t, wimlib, append([]string{"capture", src, wimPath, "first", "--no-acls"}, args...)...)
			appendArgs := []string{"append", filepath.Join(src, "many"), wimPath, "second", "--no-acls"}
			if args[0] == "--solid" {
				appendArgs = append(appendArgs, "--solid")
			}
			runPeer(t, wimlib, appendArgs...)
			r, err := Open(wimPath)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if h := r.Header(); h.Compression() != CompressLZMS {
				t.Fatalf("header compression %v", h.Compression())
			}
			solid := args[0] == "--solid"
			if solid != (len(r.solids) > 0) {
				t.Fatalf("%d solid groups", len(r.solids))
			}
			checkOnce := func(what string) {
				t.Helper()
				for _, g := range r.solids {
					for _, p := range g.parts {
						if n := p.decoded.Swap(0); n > int64(p.numChunks()) {
							t.Errorf("%s: solid resource at %d: %d chunk decodes for %d chunks", what, p.where, n, p.numChunks())
						}
					}
				}
			}
			problems, err := r.Verify(context.Background(), nil)
			if err != nil || len(problems) > 0 {
				t.Fatalf("verify: %v %v", problems, err)
			}
			checkOnce("verify")
			for i := 1; i <= 2; i++ {
				theirs := filepath.Join(t.TempDir(), "wimlib")
				runPeer(t, wimlib, "apply", wimPath, fmt.Sprint(i), theirs)
				ours := filepath.Join(t.TempDir(), "reseal")
				if err := r.Apply(context.Background(), i, ours, ApplyOptions{}); err != nil {
					t.Fatalf("apply image %d: %v", i, err)
				}
				checkOnce(fmt.Sprintf("apply image %d", i))
				compareTrees(t, theirs, ours)
			}
		})
	}
}
