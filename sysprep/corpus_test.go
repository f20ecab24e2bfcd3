package sysprep

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/winimage"
)

// flatten lists a hive's content as "KEY\PATH" and "KEY\PATH\\VALUE=type:data".
func flatten(t testing.TB, h *hive.Hive) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var walk func(k *hive.Key, path string, depth int)
	walk = func(k *hive.Key, path string, depth int) {
		out[strings.ToUpper(path)] = true
		vals, err := k.Values()
		must(t, err)
		for _, v := range vals {
			out[fmt.Sprintf("%s\\\\%s=%d:%x", strings.ToUpper(path), strings.ToUpper(v.Name), v.Type, v.Data)] = true
		}
		subs, err := k.SubKeys()
		must(t, err)
		for _, s := range subs {
			p := s.Name()
			if path != "" {
				p = path + `\` + p
			}
			walk(s, p, depth+1)
		}
	}
	walk(h.Root(), "", 0)
	return out
}

// TestCorpusDirtySystemGeneralizes builds a target from real hives (the
// dirty SYSTEM_B with its .LOG1/.LOG2, SAM and SECURITY from regipy's
// corpus, SOFTWARE from the sample), generalizes it, and checks that what
// was only in the transaction logs survived into the new SYSTEM hive, as
// python3-hivex (which never reads logs) sees it, and that the logs can no
// longer be replayed.
func TestCorpusDirtySystemGeneralizes(t *testing.T) {
	root := corpusTarget(t)
	config := filepath.Join(root, "Windows", "System32", "config")

	// What only the logs hold: present with logs applied, absent without.
	withLogs, err := hive.Open(filepath.Join(config, "SYSTEM"), &hive.OpenOptions{ReadOnly: true})
	must(t, err)
	if !withLogs.Recovery().Applied {
		t.Fatalf("SYSTEM_B should be recovered from its logs: %+v", withLogs.Recovery())
	}
	primaryOnly, err := hive.Open(filepath.Join(config, "SYSTEM"), &hive.OpenOptions{ReadOnly: true, NoLogs: true})
	must(t, err)
	recovered, stale := flatten(t, withLogs), flatten(t, primaryOnly)
	withLogs.Close()
	primaryOnly.Close()
	var logOnly []string
	for k := range recovered {
		if !stale[k] {
			logOnly = append(logOnly, k)
		}
	}
	sort.Strings(logOnly)
	if len(logOnly) == 0 {
		t.Fatal("the logs add nothing; the test would prove nothing")
	}

	// SYSTEM_B is a real machine's hive: it has PendingFileRenameOperations
	// (MSI rollback files and DriverStore temporaries deleted at the next
	// boot), which preflight must refuse. An administrator would reboot once;
	// the test accepts that one finding instead, keeping the hive dirty.
	pre, err := Preflight(context.Background(), root, Options{Now: fixedNow})
	must(t, err)
	if ids := findingIDs(pre.Findings, SeverityError); len(ids) != 1 || ids[0] != "pending-servicing" {
		t.Fatalf("preflight errors on the corpus target = %v, want just pending-servicing", ids)
	}
	if ids := findingIDs(pre.Findings, SeverityInfo); !slices.Contains(ids, "hive-dirty") {
		t.Errorf("the dirty SYSTEM is not reported: %v", ids)
	}
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow, accept: map[string]bool{"pending-servicing": true}})
	if err != nil {
		t.Fatalf("%v; findings %+v", err, r.Findings)
	}
	t.Logf("installation %s; %d actions", r.Installation, len(r.Actions))

	// Entries the plan changed on purpose are not expected to survive.
	var touchedKeys []string
	for _, a := range r.Actions {
		if a.op.key.Hive == winimage.HiveSystem {
			touchedKeys = append(touchedKeys, strings.ToUpper(a.op.key.Path))
		}
	}
	touched := func(entry string) bool {
		key, _, _ := strings.Cut(entry, `\\`)
		for _, tk := range touchedKeys {
			if key == tk || strings.HasPrefix(key, tk+`\`) {
				return true
			}
		}
		return false
	}

	// The new SYSTEM is clean: read it without logs, and with python3-hivex.
	result, err := hive.Open(filepath.Join(config, "SYSTEM"), &hive.OpenOptions{ReadOnly: true, NoLogs: true})
	must(t, err)
	if probs := result.Check(); len(probs) > 0 {
		t.Errorf("generalized SYSTEM has structural problems: %v", probs[:min(5, len(probs))])
	}
	now := flatten(t, result)
	result.Close()
	reopened, err := hive.Open(filepath.Join(config, "SYSTEM"), &hive.OpenOptions{ReadOnly: true})
	must(t, err)
	if reopened.Recovery().Applied {
		t.Error("the old logs were replayed over the new SYSTEM hive")
	}
	reopened.Close()

	py := testenv.PythonHivex(t)
	peer := dumpWithHivex(t, py, filepath.Join(config, "SYSTEM"))
	survived, checkedByPeer := 0, 0
	for _, e := range logOnly {
		if touched(e) {
			continue
		}
		if !now[e] {
			t.Errorf("log-only entry lost: %s", e)
			continue
		}
		survived++
		key, val, isValue := strings.Cut(e, `\\`)
		if _, ok := peer[key]; !ok {
			t.Errorf("hivex does not see log-only key %s", key)
			continue
		}
		if isValue {
			name, _, _ := strings.Cut(val, "=")
			if _, ok := peer[key][name]; !ok {
				t.Errorf("hivex does not see log-only value %s\\%s", key, name)
				continue
			}
		}
		checkedByPeer++
	}
	t.Logf("%d entries only in SYSTEM_B's logs; %d survived generalize, %d confirmed by hivex", len(logOnly), survived, checkedByPeer)
	if survived == 0 {
		t.Error("no log-only entry survived")
	}
	for _, lg := range []string{"SYSTEM.LOG1", "SYSTEM.LOG2"} {
		if st, err := os.Stat(filepath.Join(config, lg)); err != nil || st.Size() != 0 {
			t.Errorf("%s should be emptied: %v", lg, err)
		}
	}
}

// corpusTarget builds a volume from real hives: the dirty SYSTEM_B with its
// .LOG1/.LOG2, SAM and SECURITY from regipy's corpus, and the rest (SOFTWARE
// included) from the sample.
func corpusTarget(t testing.TB) string {
	t.Helper()
	systemB := testenv.Corpus(t, "hives", "regipy", "SYSTEM_B")
	root := writeSample(t, "10")
	config := filepath.Join(root, "Windows", "System32", "config")
	for _, n := range []string{"SYSTEM", "SYSTEM.LOG1", "SYSTEM.LOG2", "SAM", "SECURITY"} {
		os.Remove(filepath.Join(config, n))
	}
	copyAs := func(src, name string) {
		data, err := os.ReadFile(src)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(config, name), data, 0o644))
	}
	copyAs(systemB, "SYSTEM")
	copyAs(systemB+".LOG1", "SYSTEM.LOG1")
	copyAs(systemB+".LOG2", "SYSTEM.LOG2")
	copyAs(testenv.Corpus(t, "hives", "regipy", "SAM"), "SAM")
	copyAs(testenv.Corpus(t, "hives", "regipy", "SECURITY"), "SECURITY")
	rekeyAdministratorProfile(t, root)
	return root
}

// rekeyAdministratorProfile moves the sample's built-in Administrator
// profile in ProfileList to the machine SID of the volume's (real)
// SECURITY hive, so that HKEY_CURRENT_USER is found as Windows would find
// it.
func rekeyAdministratorProfile(t testing.TB, root string) {
	t.Helper()
	v, err := winimage.Open(root)
	must(t, err)
	machine, err := v.MachineSID()
	v.Close()
	must(t, err)
	swPath := filepath.Join(root, "Windows", "System32", "config", "SOFTWARE")
	sw, err := hive.Open(swPath, nil)
	must(t, err)
	defer sw.Close()
	pl, err := sw.Root().OpenKey(winimage.ProfileListKey.Path)
	must(t, err)
	names, err := pl.SubKeyNames()
	must(t, err)
	for _, n := range names {
		if strings.HasPrefix(n, "S-1-5-21-") && strings.HasSuffix(n, "-500") {
			must(t, pl.DeleteKey(n))
		}
	}
	k, err := pl.CreateKey(machine + "-500")
	must(t, err)
	must(t, k.SetValue("ProfileImagePath", hive.TypeExpandString, utf16z(`C:\Users\Administrator`)))
	must(t, sw.SaveAs(swPath))
}
