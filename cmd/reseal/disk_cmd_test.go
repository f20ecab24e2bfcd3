package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/disktest"
	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/sample"
)

// TestCaptureDisk: reseal capture of a qcow2 disk verifies in wimlib, and
// each hostile disk the issue names gives one line naming the file and
// exit 3, with nothing written.
func TestCaptureDisk(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	dir := t.TempDir()
	vol, _ := disktest.Volume(t, dir)
	raw := disktest.GPTDisk(t, dir, vol)
	q := disktest.Convert(t, raw, "qcow2")
	out := filepath.Join(dir, "out.wim")
	if code, _, stderr := runCLI(t, "capture", q, out, "--name", "Windows"); code != 0 {
		t.Fatalf("capture: exit %d: %s", code, stderr)
	}
	disktest.Run(t, wimlib, "verify", out)
	if code, _, stderr := runCLI(t, "capture", q+":2", filepath.Join(dir, "p2.wim")); code != 0 {
		t.Fatalf("capture DISK:2: exit %d: %s", code, stderr)
	}

	volBytes, err := os.ReadFile(vol)
	if err != nil {
		t.Fatal(err)
	}
	hostile := map[string]func() string{
		"bitlocker": func() string {
			d := filepath.Join(dir, "bl")
			os.Mkdir(d, 0o755)
			b := append([]byte(nil), volBytes...)
			copy(b[3:], "-FVE-FS-")
			v := filepath.Join(d, "vol.img")
			os.WriteFile(v, b, 0o644)
			return disktest.Convert(t, disktest.GPTDisk(t, d, v), "qcow2")
		},
		"dirty": func() string {
			d := filepath.Join(dir, "dirty")
			os.Mkdir(d, 0o755)
			b := append([]byte(nil), volBytes...)
			// The $Volume record's dirty flag: find $VOLUME_INFORMATION
			// (type 0x70) in record 3 and set bit 0 of its flags.
			mft := int64(binary.LittleEndian.Uint64(b[48:])) * 4096
			rec := b[mft+3*1024 : mft+4*1024]
			a := int(binary.LittleEndian.Uint16(rec[20:]))
			for binary.LittleEndian.Uint32(rec[a:]) != 0x70 {
				a += int(binary.LittleEndian.Uint32(rec[a+4:]))
			}
			rec[a+int(binary.LittleEndian.Uint16(rec[a+20:]))+10] |= 1
			v := filepath.Join(d, "vol.img")
			os.WriteFile(v, b, 0o644)
			return disktest.Convert(t, disktest.GPTDisk(t, d, v), "qcow2")
		},
		"truncated vhdx": func() string {
			x := disktest.Convert(t, raw, "vhdx")
			b, _ := os.ReadFile(x)
			p := filepath.Join(dir, "trunc.vhdx")
			os.WriteFile(p, b[:len(b)/2], 0o644)
			return p
		},
		"qcow2 L2 out of range": func() string {
			b, _ := os.ReadFile(q)
			l1 := binary.BigEndian.Uint64(b[40:])
			for i := 0; i < 4; i++ {
				binary.BigEndian.PutUint64(b[l1+uint64(8*i):], 1<<63|uint64(len(b)+(64<<20))&^0xffff)
			}
			p := filepath.Join(dir, "range.qcow2")
			os.WriteFile(p, b, 0o644)
			return p
		},
		"qcow2 L2 cycle": func() string {
			b, _ := os.ReadFile(q)
			l1 := binary.BigEndian.Uint64(b[40:])
			binary.BigEndian.PutUint64(b[l1:], 1<<63|l1) // L2 table = the L1 table
			p := filepath.Join(dir, "cycle.qcow2")
			os.WriteFile(p, b, 0o644)
			return p
		},
	}
	wants := map[string]string{
		"bitlocker":             "BitLocker",
		"dirty":                 "not clean",
		"truncated vhdx":        "trunc.vhdx",
		"qcow2 L2 out of range": "beyond the end of the file",
		"qcow2 L2 cycle":        "cycle",
	}
	for name, mk := range hostile {
		t.Run(name, func(t *testing.T) {
			p := mk()
			o := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".wim")
			code, _, stderr := runCLI(t, "capture", "--quiet", p, o)
			if code != 3 || !strings.Contains(stderr, wants[name]) || !strings.Contains(stderr, filepath.Base(p)) || bytes.Count([]byte(strings.TrimSpace(stderr)), []byte("\n")) != 0 {
				t.Errorf("exit %d, stderr %q; want 3 and one line naming %s and %q", code, stderr, filepath.Base(p), wants[name])
			}
			if _, err := os.Stat(o); err == nil {
				t.Errorf("%s was written", o)
			}
			// preflight reports a dirty volume as an error finding (exit 1)
			// and fails on the others as capture does.
			pcode, pout, perr := runCLI(t, "preflight", p)
			switch {
			case name == "dirty" && (pcode != 1 || !strings.Contains(pout, "ntfs-not-clean")):
				t.Errorf("preflight of a dirty volume: exit %d, %q %q", pcode, pout, perr)
			case name != "dirty" && (pcode != 3 || !strings.Contains(perr, filepath.Base(p))):
				t.Errorf("preflight: exit %d, stderr %q", pcode, perr)
			}
		})
	}
}

// TestPreflightDiskEqualsDirectory: preflight of a qcow2 disk gives the
// findings preflight gives on the same volume applied to a directory by
// wimlib (clean, and with Sysprep blockers planted, the dirty SYSTEM hive
// recovered from its log in memory).
func TestPreflightDiskEqualsDirectory(t *testing.T) {
	wimlib := testenv.Peer(t, "wimlib-imagex")
	for _, opts := range []sample.Options{{}, {Blockers: []string{"appx", "pending"}, Dirty: true}} {
		name := "clean"
		if len(opts.Blockers) > 0 {
			name = "blockers"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			vol, _ := disktest.VolumeFrom(t, dir, opts)
			q := disktest.Convert(t, disktest.GPTDisk(t, dir, vol), "qcow2")
			applied := filepath.Join(dir, "applied")
			disktest.Run(t, wimlib, "apply", filepath.Join(dir, "src.wim"), "1", applied)
			findings := func(target string) (int, string) {
				code, stdout, stderr := runCLI(t, "preflight", "--json", target)
				var rep struct {
					Findings []map[string]any `json:"findings"`
				}
				if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
					t.Fatalf("preflight %s: %v\n%s\n%s", target, err, stdout, stderr)
				}
				for _, f := range rep.Findings {
					delete(f, "where") // host paths differ; the rest must not
					if w, _ := f["message"].(string); strings.Contains(w, dir) {
						f["message"] = strings.ReplaceAll(w, dir, "")
					}
				}
				b, _ := json.Marshal(rep.Findings)
				return code, string(b)
			}
			dc, df := findings(q)
			ac, af := findings(applied)
			if dc != ac || df != af {
				t.Errorf("disk: exit %d %s\ndirectory: exit %d %s", dc, df, ac, af)
			}
			// reg query and export read the same hives (names on the disk
			// matched as Windows does) (the dirty SYSTEM
			// recovered from SYSTEM.LOG1 in memory, as on the directory).
			for _, h := range []string{"windows/system32/config/SYSTEM", "Windows/System32/config/SOFTWARE"} {
				for _, cmd := range [][]string{{"reg", "query", "-r"}, {"reg", "export", "--utf8"}} {
					c1, o1, e1 := runCLI(t, append(cmd, q, h)...)
					c2, o2, e2 := runCLI(t, append(cmd, filepath.Join(applied, "Windows/System32/config", filepath.Base(h)))...)
					if c1 != 0 || c2 != 0 || o1 != o2 {
						t.Errorf("%s %s: disk exit %d (%s), directory exit %d (%s); outputs equal: %v", strings.Join(cmd, " "), h, c1, e1, c2, e2, o1 == o2)
					}
				}
			}
			// inspect reads the same next-boot state from the disk as from
			// the applied directory, and --expect gates on it the same way.
			inspect := func(target string, args ...string) (int, map[string]any) {
				code, stdout, stderr := runCLI(t, append([]string{"inspect", "--json", target}, args...)...)
				var rep map[string]any
				if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
					t.Fatalf("inspect %s: %v\n%s\n%s", target, err, stdout, stderr)
				}
				delete(rep, "target")
				return code, rep
			}
			for _, expect := range []string{"complete", "generalized"} {
				c1, r1 := inspect(q, "--expect", expect)
				c2, r2 := inspect(applied, "--expect", expect)
				b1, _ := json.Marshal(r1)
				b2, _ := json.Marshal(r2)
				want := 0
				if expect == "generalized" {
					want = 1
				}
				if c1 != want || c2 != want || string(b1) != string(b2) {
					t.Errorf("inspect --expect %s: disk exit %d, directory exit %d (want %d)\ndisk:      %s\ndirectory: %s", expect, c1, c2, want, b1, b2)
				}
			}
			if name == "blockers" && (dc != 1 || !strings.Contains(df, "pending-servicing") || !strings.Contains(df, "appx-not-provisioned")) {
				t.Errorf("blockers not found: exit %d %s", dc, df)
			}
		})
	}
}
