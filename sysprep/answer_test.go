package sysprep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
	"github.com/reseal/reseal/unattend"
)

// TestAnswerFileFromCorpus generalizes with a real answer file whose
// generalize pass sets SkipRearm=1: licensing is left alone, the file is
// cached with its generalize pass marked processed, and the oobeSystem
// passwords Windows still needs are kept.
func TestAnswerFileFromCorpus(t *testing.T) {
	src := testenv.Corpus(t, "unattend", "mwrock_postunattend.xml")
	root := writeSample(t, "10")
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow, UnattendPath: src})
	if err != nil {
		t.Fatalf("%v: %+v", err, r.Findings)
	}
	for _, n := range r.NotRunOffline {
		if strings.Contains(n, "licensing rearm") {
			t.Errorf("SkipRearm=1 but rearm reported: %s", n)
		}
	}
	cached, err := unattend.ParseFile(filepath.Join(root, filepath.FromSlash(answerCachePath)))
	if err != nil {
		t.Fatal(err)
	}
	processed := map[string]string{}
	for _, s := range cached.SettingsBlocks() {
		pass, _ := s.Attr("", "pass")
		processed[pass], _ = s.Attr("", "wasPassProcessed")
	}
	if processed["generalize"] != "true" || processed["oobeSystem"] == "true" {
		t.Errorf("wasPassProcessed = %v", processed)
	}
	orig, err := unattend.ParseFile(src)
	must(t, err)
	want, _ := orig.Setting("oobeSystem", "amd64", "Microsoft-Windows-Shell-Setup", "UserAccounts/AdministratorPassword/Value")
	got, _ := cached.Setting("oobeSystem", "amd64", "Microsoft-Windows-Shell-Setup", "UserAccounts/AdministratorPassword/Value")
	if want == "" || got != want {
		t.Errorf("oobeSystem AdministratorPassword = %q, want it kept as %q", got, want)
	}
}

func TestAnswerFileSettingsSteerProviders(t *testing.T) {
	data, err := os.ReadFile(testenv.Corpus(t, "unattend", "mwrock_postunattend.xml"))
	must(t, err)
	persist := filepath.Join(t.TempDir(), "persist.xml")
	must(t, os.WriteFile(persist, []byte(strings.Replace(string(data), "<PersistAllDeviceInstalls>false", "<PersistAllDeviceInstalls>true", 1)), 0o644))
	root := writeSample(t, "10")
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow, UnattendPath: persist, DryRun: true})
	must(t, err)
	vm, err := Generalize(context.Background(), root, Options{Now: fixedNow, VM: true, DryRun: true})
	must(t, err)
	plain, err := Generalize(context.Background(), root, Options{Now: fixedNow, DryRun: true})
	must(t, err)
	count := func(r *Report) (n int) {
		for _, a := range r.Actions {
			if a.Provider == "pnp" {
				n++
			}
		}
		return n
	}
	if count(r) != 0 || count(vm) != 0 || count(plain) == 0 {
		t.Errorf("pnp actions: persist %d, vm %d, default %d", count(r), count(vm), count(plain))
	}
}

func TestInvalidAnswerFileRefused(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.xml")
	must(t, os.WriteFile(bad, []byte(`<?xml version="1.0"?><unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="generalize"><component name="Microsoft-Windows-PnpSysprep" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS"><PersistAllDeviceInstalls>maybe</PersistAllDeviceInstalls></component></settings></unattend>`), 0o644))
	root := writeSample(t, "10")
	before := treeHash(t, root)
	r, err := Generalize(context.Background(), root, Options{Now: fixedNow, UnattendPath: bad})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v; findings %+v", err, r.Findings)
	}
	if !slices.Contains(findingIDs(r.Findings, SeverityError), "unattend-invalid") {
		t.Errorf("findings %+v", r.Findings)
	}
	if treeHash(t, root) != before {
		t.Error("volume changed")
	}
	broken := filepath.Join(t.TempDir(), "broken.xml")
	must(t, os.WriteFile(broken, []byte(`<unattend><settings`), 0o644))
	r, err = Preflight(context.Background(), root, Options{UnattendPath: broken})
	if err != nil || !slices.Contains(findingIDs(r.Findings, SeverityError), "unattend-invalid") {
		t.Errorf("unparsable answer file: %v %+v", err, r.Findings)
	}
}

// TestAnswerFileCacheRedactsProcessedPasses checks the other half of the
// cache rule: a secret of a pass that has already run (here a windowsPE
// deployment credential) must not reach the captured image.
func TestAnswerFileCacheRedactsProcessedPasses(t *testing.T) {
	data, err := os.ReadFile(testenv.Corpus(t, "unattend", "mwrock_postunattend.xml"))
	must(t, err)
	const pe = `<settings pass="windowsPE"><component name="Microsoft-Windows-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS"><WindowsDeploymentServices><Login><Credentials><Domain>corp</Domain><Password>wdsSecret42</Password><Username>deploy</Username></Credentials></Login></WindowsDeploymentServices></component></settings>`
	text := strings.Replace(string(data), "</unattend>", pe+"</unattend>", 1)
	src := filepath.Join(t.TempDir(), "unattend.xml")
	must(t, os.WriteFile(src, []byte(text), 0o644))
	root := writeSample(t, "10")
	if r, err := Generalize(context.Background(), root, Options{Now: fixedNow, UnattendPath: src}); err != nil {
		t.Fatalf("%v: %+v", err, r.Findings)
	}
	cached, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(answerCachePath)))
	must(t, err)
	if strings.Contains(string(cached), "wdsSecret42") {
		t.Errorf("the windowsPE password reached the cached answer file")
	}
	if !strings.Contains(string(cached), unattend.Redacted) {
		t.Errorf("no %s marker in the cached answer file", unattend.Redacted)
	}
}
