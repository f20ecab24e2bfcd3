package sample

import (
	"bytes"
	"database/sql"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/testenv"
)

// notProvisioned queries a copy of the sample's state repository (SQLite
// writes beside a database it opens) for packages installed for a user,
// not inbox, and not provisioned in the registry.
func srdInstalls(t *testing.T, dir string, withWAL bool) (all []string, rows int) {
	t.Helper()
	tmp := t.TempDir()
	testenv.CopyInto(t, filepath.Join(dir, filepath.FromSlash(srdPath)), tmp)
	if withWAL {
		testenv.CopyInto(t, filepath.Join(dir, filepath.FromSlash(srdPath))+"-wal", tmp)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(tmp, "StateRepository-Machine.srd"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	var mode string
	db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal mode %q, want wal", mode)
	}
	r, err := db.Query(`SELECT p.PackageFullName, p.IsInbox, u.UserSid FROM PackageUser pu
		JOIN Package p ON p._PackageID = pu.Package JOIN User u ON u._UserID = pu.User
		WHERE pu.DeploymentState = 2 ORDER BY pu._PackageUserID`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var name, sid string
		var inbox int
		if err := r.Scan(&name, &inbox, &sid); err != nil {
			t.Fatal(err)
		}
		rows++
		if inbox == 0 {
			all = append(all, name+" "+sid)
		}
	}
	return all, rows
}

func TestStateRepository(t *testing.T) {
	for _, blocked := range []bool{false, true} {
		opts := Options{Seed: 17}
		if blocked {
			opts.Blockers = []string{"appx"}
		}
		dir := writeSample(t, opts)
		sw := openHive(t, dir, softwareHive)
		installs, rows := srdInstalls(t, dir, true)
		_, rowsWithoutWAL := srdInstalls(t, dir, false)
		if rowsWithoutWAL >= rows || rowsWithoutWAL == 0 {
			t.Errorf("blocked=%v: %d installs with the WAL, %d without: the WAL should hold the newest", blocked, rows, rowsWithoutWAL)
		}
		var unprovisioned []string
		for _, in := range installs {
			name, sid, _ := strings.Cut(in, " ")
			if !keyExists(t, sw, allUserStore+`\Applications\`+name) {
				unprovisioned = append(unprovisioned, name)
				if !keyExists(t, sw, allUserStore+`\`+sid+`\`+name) {
					t.Errorf("%s installed for %s in the repository but not in AppxAllUserStore", name, sid)
				}
			}
		}
		switch {
		case !blocked && len(unprovisioned) != 0:
			t.Errorf("clean sample has unprovisioned packages %v", unprovisioned)
		case blocked && (len(unprovisioned) != 1 || unprovisioned[0] != appxBlockerPackage):
			t.Errorf("appx blocker: unprovisioned %v, want [%s]", unprovisioned, appxBlockerPackage)
		}
		// The registry's per-user lists name only provisioned packages,
		// except the blocker's.
		users, _ := mustKey(t, sw.Root(), allUserStore).SubKeyNames()
		for _, u := range users {
			if !strings.HasPrefix(u, "S-1-5-21-") {
				continue
			}
			pkgs, _ := mustKey(t, sw.Root(), allUserStore+`\`+u).SubKeyNames()
			for _, p := range pkgs {
				if !keyExists(t, sw, allUserStore+`\Applications\`+p) && p != appxBlockerPackage {
					t.Errorf("per-user entry %s is not provisioned", p)
				}
			}
		}
	}
}

// probe reads a sample volume without failing: absent things read as
// zero values, so that a check can say "not planted".
type probe struct {
	t     *testing.T
	dir   string
	hives map[string]*hive.Hive
}

func (p *probe) hive(rel string) *hive.Hive {
	if h, ok := p.hives[rel]; ok {
		return h
	}
	h := openHive(p.t, p.dir, rel)
	p.hives[rel] = h
	return h
}

func (p *probe) value(rel, key, name string) hive.Value {
	k, err := p.hive(rel).Root().OpenKey(key)
	if err != nil {
		return hive.Value{}
	}
	v, _ := k.Value(name)
	return v
}

func (p *probe) str(rel, key, name string) string {
	s, _ := p.value(rel, key, name).String()
	return s
}

func (p *probe) num(rel, key, name string) uint64 {
	n, _ := p.value(rel, key, name).Uint64()
	return n
}

func (p *probe) has(rel, key string) bool {
	_, err := p.hive(rel).Root().OpenKey(key)
	return err == nil
}

func (p *probe) file(rel string) []byte {
	b, _ := os.ReadFile(filepath.Join(p.dir, filepath.FromSlash(rel)))
	return b
}

// blockerPlanted says, for each blocker, whether a volume carries
// everything the engine contract's table says the blocker plants.
var blockerPlanted = map[string]func(p *probe) bool{
	"appx": func(p *probe) bool {
		sid := p.str(softwareHive, cv+`\WindowsUpdate`, "AccountDomainSid") + "-1001"
		return p.has(softwareHive, allUserStore+`\`+sid+`\`+appxBlockerPackage) &&
			!p.has(softwareHive, allUserStore+`\Applications\`+appxBlockerPackage)
	},
	"pending": func(p *probe) bool {
		ops, _ := p.value(systemHive, cs+`\Control\Session Manager`, "PendingFileRenameOperations").Strings()
		return len(p.file("Windows/WinSxS/pending.xml")) > 0 && len(ops) > 0 &&
			p.has(softwareHive, cv+`\Component Based Servicing\RebootPending`)
	},
	"upgrade": func(p *probe) bool {
		return p.has(systemHive, `Setup\Source OS (Updated on 1/1/2016 00:00:00)`) &&
			p.str(softwareHive, cvNT, "CurrentBuild") == "10586"
	},
	"role": func(p *probe) bool {
		return p.num(softwareHive, `Microsoft\ServerManager\ServicingStorage\ServerComponentCache\AD-Domain-Services`, "InstallState") == 1 &&
			p.str(softwareHive, cvNT, "InstallationType") == "Server" && p.has(systemHive, cs+`\Services\NTDS`)
	},
	"nps": func(p *probe) bool {
		b := p.file("Windows/System32/ias/ias.xml")
		if b == nil {
			return false
		}
		clients, groups := npsEntries(p.t, b)
		return clients > 0 && groups > 0
	},
	"runlimit": func(p *probe) bool {
		return p.num(softwareHive, "reseal", "GeneralizeCount") == 1001
	},
	"state": func(p *probe) bool {
		return p.str(softwareHive, cv+`\Setup\State`, "ImageState") == "IMAGE_STATE_UNDEPLOYABLE" &&
			p.has(softwareHive, cv+`\Setup\Sysprep\SysprepCorrupt`) &&
			bytes.Contains(p.file("Windows/Setup/State/State.ini"), []byte("ImageState=IMAGE_STATE_UNDEPLOYABLE\r\n"))
	},
	"hibernated": func(p *probe) bool {
		return bytes.HasPrefix(p.file("hiberfil.sys"), []byte("HIBR")) &&
			p.num(systemHive, cs+`\Control\Session Manager\Power`, "HiberbootEnabled") == 1
	},
	"stale-unattend": func(p *probe) bool {
		return bytes.Contains(p.file("Windows/Panther/Unattend/Unattend.xml"), []byte("urn:schemas-microsoft-com:unattend"))
	},
	"domain": func(p *probe) bool {
		sid := p.value(securityHive, `Policy\PolPrDmS`, "").Data
		return len(sid) == 24 && sid[0] == 1 && sid[1] == 4 && sid[7] == 5 && sid[8] == 21 &&
			len(p.value(securityHive, `Policy\PolPrDmN`, "").Data) > 0
	},
}

// TestBlockersPlantWhatTheContractSays: each blocker plants all of its
// row of the contract and nothing of any other row; a clean sample has
// none.
func TestBlockersPlantWhatTheContractSays(t *testing.T) {
	if len(blockerPlanted) != len(BlockerNames()) {
		t.Fatalf("%d checks for %d blockers", len(blockerPlanted), len(BlockerNames()))
	}
	planted := func(t *testing.T, dir string) []string {
		p := &probe{t: t, dir: dir, hives: map[string]*hive.Hive{}}
		var found []string
		for _, name := range BlockerNames() {
			if blockerPlanted[name](p) {
				found = append(found, name)
			}
		}
		return found
	}
	for _, name := range BlockerNames() {
		t.Run(name, func(t *testing.T) {
			dir := writeSample(t, Options{Seed: 2, Blockers: []string{name}})
			if got := planted(t, dir); len(got) != 1 || got[0] != name {
				t.Errorf("--blocker %s planted %v", name, got)
			}
		})
	}
	if got := planted(t, writeSample(t, Options{Seed: 2})); len(got) != 0 {
		t.Errorf("clean sample has blockers %v", got)
	}
	for _, w := range []string{"11", "server2022"} {
		if got := planted(t, writeSample(t, Options{Seed: 2, Windows: w})); len(got) != 0 {
			t.Errorf("clean Windows %s sample has blockers %v", w, got)
		}
	}
	all := BlockerNames()
	if got := planted(t, writeSample(t, Options{Seed: 2, Blockers: all})); strings.Join(got, ",") != strings.Join(all, ",") {
		t.Errorf("all blockers together planted %v", got)
	}
}

// npsEntries counts Entry elements under RadiusClients and
// RadiusServerGroups at any depth.
func npsEntries(t *testing.T, b []byte) (clients, groups int) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return clients, groups
		}
		if err != nil {
			t.Fatalf("ias.xml: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if e.Name.Local == "Entry" {
				for _, s := range stack {
					switch s {
					case "RadiusClients":
						clients++
					case "RadiusServerGroups":
						groups++
					}
				}
			}
			stack = append(stack, e.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}
