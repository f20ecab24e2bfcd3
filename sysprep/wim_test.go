package sysprep

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/sample"
	"github.com/reseal/reseal/winimage"
)

func wimlibRun(t testing.TB, args ...string) string {
	t.Helper()
	wimlib := testenv.Peer(t, "wimlib-imagex")
	out, err := exec.Command(wimlib, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("wimlib-imagex %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// captureSample writes a sample volume (with blockers) and captures it with
// wimlib; it returns the volume and the WIM.
func captureSample(t testing.TB, windows string, blockers ...string) (string, string) {
	t.Helper()
	vol := writeSample(t, windows, blockers...)
	tmp := t.TempDir()
	wimPath := filepath.Join(tmp, "golden.wim")
	// wimlib's default configuration leaves hiberfil.sys and pagefile.sys
	// out of an image; an empty one captures the volume whole.
	config := filepath.Join(tmp, "capture.ini")
	must(t, os.WriteFile(config, []byte("[ExclusionList]\n"), 0o644))
	wimlibRun(t, "capture", vol, wimPath, "golden", "--compress=lzx", "--config="+config)
	return vol, wimPath
}

func openWIM(t testing.TB, wimPath, image string) *winimage.WIMBackend {
	t.Helper()
	b, err := winimage.OpenWIM(wimPath, image)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func fileHash(t testing.TB, p string) string {
	data, err := os.ReadFile(p)
	must(t, err)
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// TestGeneralizeInsideWIM: an image captured by wimlib, generalized inside
// the WIM into a new WIM and applied by wimlib, is generalized exactly as
// the applied directory generalized in place (hives by content, files by
// bytes); wimlib verifies the new WIM. With append, image 1 applies to
// exactly the tree it had before.
func TestGeneralizeInsideWIM(t *testing.T) {
	vol, golden := captureSample(t, "11")
	goldenHash := fileHash(t, golden)

	ref := filepath.Join(t.TempDir(), "ref")
	wimlibRun(t, "apply", golden, "1", ref)
	before := treeHash(t, ref)
	if _, err := Generalize(context.Background(), ref, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	want := logicalHash(t, ref)
	_ = vol

	out := filepath.Join(t.TempDir(), "out.wim")
	b := openWIM(t, golden, "1")
	b.Output = winimage.WIMOutput{Path: out}
	r, err := Generalize(context.Background(), golden+":1", Options{Now: fixedNow, Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Actions) == 0 {
		t.Fatal("no actions")
	}
	if fileHash(t, golden) != goldenHash {
		t.Fatal("the source WIM changed")
	}
	wimlibRun(t, "verify", out)
	applied := filepath.Join(t.TempDir(), "applied")
	wimlibRun(t, "apply", out, "1", applied)
	if got := logicalHash(t, applied); got != want {
		t.Errorf("generalized inside the WIM and applied differs from the applied directory generalized")
		diffTrees(t, ref, applied)
	}
	// The same hives as hivex reads them.
	py := testenv.PythonHivex(t)
	for _, n := range []string{"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "DEFAULT"} {
		a := dumpWithHivex(t, py, filepath.Join(ref, "Windows", "System32", "config", n))
		b := dumpWithHivex(t, py, filepath.Join(applied, "Windows", "System32", "config", n))
		if len(a) == 0 || !reflect.DeepEqual(a, b) {
			t.Errorf("hivex reads %s differently (%d and %d keys)", n, len(a), len(b))
		}
	}

	// --append: the same image as a second one; image 1 untouched.
	b2 := openWIM(t, golden, "golden")
	b2.Output = winimage.WIMOutput{Append: true, Name: "golden (generalized)"}
	if _, err := Generalize(context.Background(), golden+":golden", Options{Now: fixedNow, Backend: b2}); err != nil {
		t.Fatal(err)
	}
	wimlibRun(t, "verify", golden)
	info := wimlibRun(t, "info", golden)
	if !bytes.Contains([]byte(info), []byte("golden (generalized)")) {
		t.Errorf("wiminfo shows no appended image:\n%s", info)
	}
	one := filepath.Join(t.TempDir(), "one")
	wimlibRun(t, "apply", golden, "1", one)
	if treeHash(t, one) != before {
		t.Error("image 1 no longer applies to the tree it had")
	}
	two := filepath.Join(t.TempDir(), "two")
	wimlibRun(t, "apply", golden, "2", two)
	if got := logicalHash(t, two); got != want {
		t.Error("the appended image differs from the applied directory generalized")
	}
}

// diffTrees logs the files that differ between two trees.
func diffTrees(t testing.TB, a, b string) {
	t.Helper()
	list := func(root string) map[string]string {
		m := map[string]string{}
		filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			if info.Mode().IsRegular() {
				m[rel] = logicalHash(t, p)
			} else {
				m[rel] = info.Mode().Type().String()
			}
			return nil
		})
		return m
	}
	ma, mb := list(a), list(b)
	var keys []string
	for k := range ma {
		keys = append(keys, k)
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if ma[k] != mb[k] {
			t.Logf("differs: %s (%q vs %q)", k, ma[k], mb[k])
		}
	}
}

// TestBlockersInsideWIM: every preflight blocker of a sample volume is
// found the same way in the image wimlib captured of it.
func TestBlockersInsideWIM(t *testing.T) {
	for _, bl := range sample.Blockers() {
		t.Run(bl.Name, func(t *testing.T) {
			vol, wimPath := captureSample(t, "", bl.Name)
			dir, err := Preflight(context.Background(), vol, Options{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			inWIM, err := Preflight(context.Background(), wimPath+":1", Options{Now: fixedNow, Backend: openWIM(t, wimPath, "1")})
			if err != nil {
				t.Fatal(err)
			}
			key := func(fs []Finding) []string {
				var out []string
				for _, f := range fs {
					out = append(out, f.Severity.String()+" "+f.ID)
				}
				slices.Sort(out)
				return out
			}
			if !slices.Equal(key(dir.Findings), key(inWIM.Findings)) {
				t.Errorf("directory found\n%q\ninside the WIM\n%q", key(dir.Findings), key(inWIM.Findings))
			}
			if !slices.Contains(key(inWIM.Findings), bl.Severity+" "+bl.Finding) {
				t.Errorf("blocker %s: %s %s not found inside the WIM", bl.Name, bl.Severity, bl.Finding)
			}
			for _, f := range inWIM.Findings {
				if f.ID == bl.Finding {
					t.Logf("%s: %s | where %s", f.Severity, f.Message, f.Where)
				}
			}
		})
	}
}
