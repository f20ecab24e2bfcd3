package hive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// regfHives lists the corpus hives that must open, with what recovery must
// do (pages from the corpus README: other parsers' figures).
var regfHives = []struct {
	path  string
	dirty bool
	pages int // dirty pages applied from the logs (0: none)
	large bool
}{
	{"regipy/SYSTEM", false, 0, true},
	{"regipy/SYSTEM_B", true, 315, true},
	{"regipy/SAM", false, 0, false},
	{"regipy/SECURITY", true, 0, false}, // dirty, no logs
	{"regipy/NTUSER.DAT", false, 0, false},
	{"regipy/UsrClass.dat", true, 158, false},
	{"regipy/transactions_NTUSER.DAT", true, 132, false},
	{"regipy/BCD", false, 0, false},
	{"regipy/amcache.hve", true, 0, false}, // dirty, no logs
	{"zimmerman/SAM", false, 0, false},
	{"zimmerman/SECURITY", true, 0, false},
	{"zimmerman/BCD", false, 0, false},
	{"zimmerman/SAM_hasBigEndianDWord", false, 0, false},
	{"dfwinreg/NTUSER.DAT", false, 0, false},
	{"dfwinreg/SAM", false, 0, false},
	{"dfwinreg/SECURITY", false, 0, false},
	{"dfwinreg/UsrClass.dat", false, 0, false},
	{"dfirmuseum/Amcache.hve", true, 60, false},
}

// TestCorpusMatchesHivex opens every regf hive of the corpus and, for those
// read as they are on disk (no log applied), compares the whole tree with
// what hivex reads: key for key, value for value, type and bytes.
func TestCorpusMatchesHivex(t *testing.T) {
	for _, c := range regfHives {
		t.Run(c.path, func(t *testing.T) {
			if c.large && testing.Short() {
				t.Skip("large hive skipped in -short")
			}
			path := testenv.Corpus(t, "hives", c.path)
			h, err := Open(path, &OpenOptions{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			rec := h.Recovery()
			if rec.Dirty != c.dirty || rec.DirtyPages != c.pages || rec.Applied != (c.pages > 0) {
				t.Fatalf("recovery = %+v, want dirty=%v pages=%d", rec, c.dirty, c.pages)
			}
			if rec.Applied {
				return // compared after saving, in TestRecoveredHivesOpenInPeers
			}
			want := hivexTree(t, path)
			got := ourTree(t, h)
			if d := diffTrees(want, got); d != "" {
				t.Fatalf("tree differs from hivex:\n%s", d)
			}
		})
	}
}

// TestBrokenInputsRefused checks that broken files give a clear error
// wrapping ErrFormat, never a panic.
func TestBrokenInputsRefused(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"zimmerman/NotAHive", "executable"},
		{"dfwinreg/SYSTEM.DAT", "Windows 9x"},
		{"zimmerman/SAN(OTHER)", "checksum"},
		{"zimmerman/SAMBadHBinHeader", "hive bin signature"},
		{"regipy/corrupted_system_hive", "hive bin signature"},
	} {
		t.Run(c.path, func(t *testing.T) {
			path := testenv.Corpus(t, "hives", c.path)
			_, err := Open(path, nil)
			if err == nil {
				t.Fatal("opened a broken hive")
			}
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "offset 0x") {
				t.Fatalf("error %q: want ErrFormat mentioning %q and an offset", err, c.want)
			}
		})
	}
}

// TestTruncatedCopiesRefused cuts real hives short: every cut inside the
// base block or the hive bins is refused with an error naming an offset.
func TestTruncatedCopiesRefused(t *testing.T) {
	for _, name := range []string{"regipy/SAM", "regipy/NTUSER.DAT", "zimmerman/BCD"} {
		src := testenv.Corpus(t, "hives", name)
		raw, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		bins := int(baseBlock{raw}.binsSize())
		for _, n := range []int{0, 3, 100, 4095, 4096, 4096 + 100, 4096 + bins/2, 4096 + bins - 1} {
			path := filepath.Join(t.TempDir(), "cut")
			if err := os.WriteFile(path, raw[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path, nil)
			if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "offset 0x") {
				t.Errorf("%s cut at %d bytes: error %v, want a format error naming an offset", name, n, err)
			}
		}
	}
}

// TestEveryCorpusHiveOpens walks the whole hives folder, so that a hive
// added to the corpus later is covered too: every regf primary opens
// (except the known broken ones, refused by TestBrokenInputsRefused), every
// other file is refused as not a hive.
func TestEveryCorpusHiveOpens(t *testing.T) {
	root := testenv.Corpus(t, "hives")
	broken := map[string]bool{"SAN(OTHER)": true, "SAMBadHBinHeader": true, "corrupted_system_hive": true}
	opened := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if testing.Short() && d.Name() == "SYSTEM" {
			return nil
		}
		head := make([]byte, 32)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		n, _ := f.Read(head)
		f.Close()
		isLog := n >= 32 && string(head[:4]) == "regf" && le.Uint32(head[28:]) != fileTypePrimary
		if isLog || broken[d.Name()] {
			return nil
		}
		h, err := Open(path, &OpenOptions{ReadOnly: true})
		if n >= 4 && string(head[:4]) == "regf" {
			if err != nil {
				t.Errorf("%s: %v", path, err)
				return nil
			}
			opened++
			walkAll(h.Root(), 0, map[uint32]bool{})
		} else if !errors.Is(err, ErrFormat) {
			t.Errorf("%s is not a hive, but Open said %v", path, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if opened < 10 {
		t.Fatalf("only %d hives opened", opened)
	}
}

// TestRegipyNTUSERFacts checks the figures regipy's own tests report for its
// NTUSER.DAT: primary sequence 749, checksum 476614345, 1,812 keys and
// 4,094 values.
func TestRegipyNTUSERFacts(t *testing.T) {
	h, err := Open(testenv.Corpus(t, "hives", "regipy", "NTUSER.DAT"), &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	bb := baseBlock{h.base}
	if bb.seq1() != 749 || le.Uint32(h.base[508:]) != 476614345 {
		t.Fatalf("sequence %d checksum %d", bb.seq1(), le.Uint32(h.base[508:]))
	}
	tree := ourTree(t, h)
	values := 0
	for _, k := range tree {
		values += len(k.Values)
	}
	if len(tree) != 1812 || values != 4094 {
		t.Fatalf("%d keys and %d values, want 1812 and 4094", len(tree), values)
	}
}
