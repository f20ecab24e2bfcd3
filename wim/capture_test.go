//go:build linux

package wim

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// TestCaptureJudgedByWimlib: WIMs this package writes pass wimlib's verify,
// and wimlib applies them to a tree identical to the source; appended images
// and integrity tables included.
func TestCaptureJudgedByWimlib(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	second := filepath.Join(src, "Ünïcødé 目录")
	for _, c := range []struct {
		name string
		opts CaptureOptions
	}{
		{"none", CaptureOptions{Compression: CompressNone}},
		{"none-check", CaptureOptions{Compression: CompressNone, Check: true}},
		{"xpress", CaptureOptions{Compression: CompressXPRESS, Threads: 3}},
		{"xpress-8k", CaptureOptions{Compression: CompressXPRESS, ChunkSize: 8192, Check: true}},
		{"lzx", CaptureOptions{Compression: CompressLZX, Threads: 2, Check: true}},
		{"lzx-256k", CaptureOptions{Compression: CompressLZX, ChunkSize: 256 << 10}},
		{"lzms", CaptureOptions{Compression: CompressLZMS, Threads: 2, Check: true}},
		{"lzms-1m", CaptureOptions{Compression: CompressLZMS, ChunkSize: 1 << 20}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !canCompress(c.opts.Compression, max(c.opts.ChunkSize, defaultChunkSize)) {
				t.Skipf("%v compression not built in yet", c.opts.Compression)
			}
			wimPath := filepath.Join(t.TempDir(), "ours.wim")
			opts := c.opts
			opts.Name, opts.Description = "first", "the whole tree"
			if err := Capture(context.Background(), src, wimPath, opts); err != nil {
				t.Fatal(err)
			}
			opts.Name, opts.Description, opts.Append = "second", "a sub tree", true
			if err := Capture(context.Background(), second, wimPath, opts); err != nil {
				t.Fatal(err)
			}
			out := runPeer(t, wimlib, "verify", wimPath)
			if !strings.Contains(out, "is valid") && !strings.Contains(out, "OK") {
				t.Logf("wimlib verify said: %s", out)
			}
			info := runPeer(t, wimlib, "info", wimPath)
			if !strings.Contains(info, "Name:                   second") || !strings.Contains(info, "Description:            a sub tree") {
				t.Errorf("wiminfo:\n%s", info)
			}
			for i, want := range []string{src, second} {
				dest := filepath.Join(t.TempDir(), "dest")
				runPeer(t, wimlib, "apply", wimPath, []string{"1", "2"}[i], dest)
				compareTrees(t, want, dest)
				ours := filepath.Join(t.TempDir(), "ours")
				r, err := Open(wimPath)
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Apply(context.Background(), i+1, ours, ApplyOptions{}); err != nil {
					t.Fatal(err)
				}
				r.Close()
				compareTrees(t, want, ours)
			}
		})
	}
}

// TestCaptureWindowsXML: the XML data carries what DISM records of a Windows
// image when the caller provides it, and wimlib reads it back.
func TestCaptureWindowsXML(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	wimPath := filepath.Join(t.TempDir(), "x.wim")
	win := &WindowsInfo{Architecture: "x86_64", ProductName: "Microsoft® Windows® Operating System", EditionID: "Professional",
		InstallationType: "Client", ProductType: "WinNT", Languages: []string{"en-US", "de-DE"}, DefaultLanguage: "en-US",
		Version: "10.0.19045.3803", SystemRoot: "WINDOWS"}
	opts := CaptureOptions{Name: "Windows 10 Pro", Description: "a <test> & more", DisplayName: "Windows 10 Pro", Flags: "Professional", Windows: win, Boot: true}
	if err := Capture(context.Background(), src, wimPath, opts); err != nil {
		t.Fatal(err)
	}
	if out := runPeer(t, wimlib, "info", wimPath); !strings.Contains(out, "Boot Index:     1") {
		t.Errorf("not bootable:\n%s", out)
	}
	runPeer(t, wimlib, "verify", wimPath)
	out := runPeer(t, wimlib, "info", wimPath, "1")
	for _, want := range []string{"Architecture:           x86_64", "Edition ID:             Professional", "Product Name:           Microsoft® Windows® Operating System",
		"Languages:              en-US de-DE", "Default Language:       en-US", "Major Version:          10", "Build:                  19045", "Service Pack Build:     3803",
		"Description:            a <test> & more", "Flags:                  Professional", "Display Name:           Windows 10 Pro"} {
		if !strings.Contains(out, want) {
			t.Errorf("wiminfo lacks %q:\n%s", want, out)
		}
	}
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := r.Images()[0]
	if got.Windows == nil || got.Windows.Version != win.Version || got.Windows.Architecture != "x86_64" || got.Flags != "Professional" {
		t.Errorf("read back: %+v %+v", got, got.Windows)
	}
}

func TestReadLink(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	wimPath := filepath.Join(t.TempDir(), "x.wim")
	if err := Capture(context.Background(), src, wimPath, CaptureOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := r.Image(1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]LinkTarget{
		"/sub/rel-link": {Path: `..\hello.txt`, Relative: true},
		"/sub/dir-link": {Path: `deep`, Relative: true},
		"/abs-link":     {Path: `\sub\big.bin`, Drive: "C:"},
		"/dangling":     {Path: `missing-target`, Relative: true},
	}
	img.Root.Walk(func(f *File) error {
		if w, ok := want[f.Path()]; ok {
			got, err := r.ReadLink(f)
			if err != nil || got != w {
				t.Errorf("ReadLink(%s) = %+v, %v; want %+v", f.Path(), got, err, w)
			}
			if f.Path() == "/sub/dir-link" && !f.IsDir() {
				t.Errorf("a link to a directory lacks the directory attribute")
			}
			delete(want, f.Path())
		}
		return nil
	})
	if len(want) > 0 {
		t.Errorf("links not found: %v", want)
	}
}
