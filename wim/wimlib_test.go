//go:build linux

package wim

import (
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// TestApplyWimlibWIMs: WIMs that wimlib writes, in every compression and
// layout, apply with this package to a tree identical to the source.
func TestApplyWimlibWIMs(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	cases := []struct {
		name string
		comp Compression
		args []string
	}{
		{"none", CompressNone, []string{"--compress=none"}},
		{"none-check", CompressNone, []string{"--compress=none", "--check"}},
		{"xpress", CompressXPRESS, []string{"--compress=xpress"}},
		{"xpress-4k-chunks", CompressXPRESS, []string{"--compress=xpress", "--chunk-size=4096"}},
		{"lzx", CompressLZX, []string{"--compress=lzx", "--check"}},
		{"lzx-1m-chunks", CompressLZX, []string{"--compress=lzx", "--chunk-size=1048576"}},
		{"lzms", CompressLZMS, []string{"--compress=lzms"}},
		{"lzms-solid", CompressLZMS, []string{"--solid"}},
		{"xpress-solid", CompressLZMS, []string{"--solid", "--solid-compress=xpress"}},
		{"xpress-solid-xpress-metadata", CompressXPRESS, []string{"--compress=xpress", "--solid", "--solid-compress=xpress"}},
		{"lzx-solid", CompressLZX, []string{"--compress=lzx", "--solid", "--solid-compress=lzx", "--check"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !canDecompress(c.comp) {
				t.Skipf("no %v decoder", c.comp)
			}
			wimPath := filepath.Join(t.TempDir(), "x.wim")
			runPeer(t, wimlib, append([]string{"capture", src, wimPath, "first"}, c.args...)...)
			second := filepath.Join(src, "Ünïcødé 目录")
			var appendArgs []string
			for _, a := range c.args {
				if a == "--check" || a == "--solid" {
					appendArgs = append(appendArgs, a)
				}
			}
			runPeer(t, wimlib, append([]string{"append", second, wimPath, "second", "the sub tree"}, appendArgs...)...)
			r, err := Open(wimPath)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if strings.Contains(strings.Join(c.args, " "), "--solid") && (len(r.solids) == 0 || r.Header().Version != versionSolid) {
				t.Fatalf("wimlib wrote no solid resource (version %#x)", r.Header().Version)
			}
			imgs := r.Images()
			if len(imgs) != 2 || imgs[0].Name != "first" || imgs[1].Description != "the sub tree" {
				t.Fatalf("images = %+v", imgs)
			}
			problems, err := r.Verify(context.Background(), nil)
			if err != nil || len(problems) > 0 {
				t.Fatalf("verify: %v %v", problems, err)
			}
			for i, want := range []string{src, second} {
				dest := filepath.Join(t.TempDir(), "dest")
				if err := r.Apply(context.Background(), i+1, dest, ApplyOptions{}); err != nil {
					t.Fatalf("apply image %d: %v", i+1, err)
				}
				compareTrees(t, want, dest)
			}
		})
	}
}

// TestSplitWIM: a WIM that wimlib splits into .swm parts opens from its
// first part, verifies, and applies to the source tree.
func TestSplitWIM(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	noise := make([]byte, 300_000)
	rand.New(rand.NewSource(5)).Read(noise)
	if err := os.WriteFile(filepath.Join(src, "noise.bin"), noise, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.wim")
	runPeer(t, wimlib, "capture", src, whole, "--compress=lzx")
	first := filepath.Join(dir, "parts.swm")
	runPeer(t, wimlib, "split", whole, first, "0.1") // 100 KB parts
	if _, err := os.Stat(filepath.Join(dir, "parts2.swm")); err != nil {
		t.Fatalf("wimlib made only one part: %v", err)
	}
	r, err := Open(first)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if problems, err := r.Verify(context.Background(), nil); err != nil || len(problems) > 0 {
		t.Fatalf("verify: %v %v", problems, err)
	}
	dest := filepath.Join(t.TempDir(), "dest")
	if err := r.Apply(context.Background(), 1, dest, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, src, dest)
	if _, err := Open(filepath.Join(dir, "parts2.swm")); err == nil {
		t.Error("opening part 2 alone succeeded")
	}
}
