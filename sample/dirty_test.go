package sample

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/hive"
)

// TestDirtySystemRecovers: reseal's hive reader (written independently
// from the spec) replays SYSTEM.LOG1 and finds the newer state; without
// the log it finds the older one; hivex, which never replays logs, reads
// the primary as the older state.
func TestDirtySystemRecovers(t *testing.T) {
	dir := writeSample(t, Options{Seed: 31, Dirty: true})
	v, err := build(Options{Seed: 31, Now: testNow, Dirty: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.FromSlash(systemHive))
	if !fileExists(dir, systemHive+".LOG1") {
		t.Fatal("no SYSTEM.LOG1")
	}
	lease := cs + `\Services\Tcpip\Parameters\Interfaces\` + strings.ToLower(v.id.ifGUID)
	newObtained, _ := v.system().value(lease, "LeaseObtainedTime")
	oldObtained, _ := v.olderSystem.value(lease, "LeaseObtainedTime")

	h, err := hive.Open(path, &hive.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	r := h.Recovery()
	if !r.Dirty || !r.Applied || r.Format != "new" || r.DirtyPages == 0 || len(r.Logs) != 1 {
		t.Fatalf("recovery %+v", r)
	}
	if p := h.Check(); len(p) > 0 {
		t.Errorf("recovered hive fails Check: %v", p)
	}
	if !keyExists(t, h, cs+`\Services\vm3dservice`) {
		t.Error("the service only in the log was not recovered")
	}
	if got := readValue(t, h, lease, "LeaseObtainedTime").Data; string(got) != string(newObtained.data) {
		t.Errorf("recovered lease time % x, want % x", got, newObtained.data)
	}

	old, err := hive.Open(path, &hive.OpenOptions{ReadOnly: true, NoLogs: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if keyExists(t, old, cs+`\Services\vm3dservice`) {
		t.Error("the primary file already has the logged service: the log proves nothing")
	}
	if got := readValue(t, old, lease, "LeaseObtainedTime").Data; string(got) != string(oldObtained.data) {
		t.Errorf("primary lease time % x, want % x", got, oldObtained.data)
	}

	answers := runHivex(t, []hivexQuery{{path, lease, "LeaseObtainedTime"}})
	if answers[0].Error != "" || answers[0].Data != hexOf(oldObtained.data) {
		t.Errorf("hivex reads the primary as %+v, want the older lease %s", answers[0], hexOf(oldObtained.data))
	}
}

// TestDirtyLogEntryIsExact: a corrupted byte in the log entry breaks its
// hashes, and recovery then applies nothing.
func TestDirtyLogEntryIsExact(t *testing.T) {
	v, err := build(Options{Seed: 32, Now: testNow, Dirty: true})
	if err != nil {
		t.Fatal(err)
	}
	primary, log, err := dirtyHive(v.olderSystem, v.system(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, corrupt := range []bool{false, true} {
		dir := t.TempDir()
		l := append([]byte(nil), log...)
		if corrupt {
			// a byte of the first logged page: after the log's base
			// block sector (512 bytes) and the HvLE header (40 bytes)
			l[512+40+100] ^= 0x01
		}
		writeFile(t, filepath.Join(dir, "SYSTEM"), primary)
		writeFile(t, filepath.Join(dir, "SYSTEM.LOG1"), l)
		h, err := hive.Open(filepath.Join(dir, "SYSTEM"), &hive.OpenOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Recovery().Applied; got == corrupt {
			t.Errorf("corrupt=%v: log applied=%v", corrupt, got)
		}
		h.Close()
	}
}
