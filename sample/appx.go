package sample

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver (no cgo)
)

// srdPath is the Appx state repository, relative to the volume root.
const srdPath = "ProgramData/Microsoft/Windows/AppRepository/StateRepository-Machine.srd"

const allUserStore = cv + `\Appx\AppxAllUserStore`

// appxPackage is one row of the repository's Package table.
type appxPackage struct {
	fullName    string
	inbox       bool // part of Windows itself (SystemApps)
	provisioned bool // staged for every new user (AppxAllUserStore\Applications)
}

func (p appxPackage) family() string {
	parts := strings.Split(p.fullName, "_")
	return parts[0] + "_" + parts[len(parts)-1]
}

// packedVersion is the version as the repository stores it: four 16-bit
// fields in one integer.
func (p appxPackage) packedVersion() int64 {
	var v int64
	for _, f := range strings.SplitN(strings.Split(p.fullName, "_")[1], ".", 4) {
		n, _ := strconv.ParseInt(f, 10, 64)
		v = v<<16 | n&0xffff
	}
	return v
}

func (p appxPackage) architecture() int {
	switch strings.Split(p.fullName, "_")[2] {
	case "x64":
		return 9
	case "x86":
		return 0
	case "arm64":
		return 12
	}
	return 11 // neutral
}

func (p appxPackage) location() string {
	if p.inbox {
		return `C:\Windows\SystemApps\` + p.family()
	}
	return `C:\Program Files\WindowsApps\` + p.fullName
}

// appxInstall is one row of PackageUser: a package installed for a user.
type appxInstall struct {
	fullName string
	userSID  string
	// recent rows are written to the WAL and not checkpointed, as the
	// newest changes of a running system are: a reader that ignores the
	// WAL misses them.
	recent bool
}

// appxState is the repository's content; it is written as SQLite, and
// mirrored in the registry's AppxAllUserStore by buildAppxRegistry.
type appxState struct {
	packages []appxPackage
	users    []string
	installs []appxInstall
	// walSalts are the WAL header salts, drawn from the seed so that the
	// WAL file is the same for a seed (SQLite draws them at random).
	walSalts [2]uint32
}

func (v *volume) buildAppx() {
	ed := v.ed
	inboxVersion := fmt.Sprintf("10.0.%d.%d", ed.build, ed.ubr)
	st := &appxState{users: []string{"S-1-5-18", v.id.userSID()}}
	inbox := []string{
		"Microsoft.Windows.ShellExperienceHost_" + inboxVersion + "_neutral_neutral_cw5n1h2txyewy",
		"Microsoft.Windows.StartMenuExperienceHost_" + inboxVersion + "_neutral_neutral_cw5n1h2txyewy",
		"windows.immersivecontrolpanel_10.0.2.1000_neutral_neutral_cw5n1h2txyewy",
		fmt.Sprintf("Microsoft.AAD.BrokerPlugin_1000.%d.%d.0_neutral_neutral_cw5n1h2txyewy", ed.build, ed.ubr),
	}
	provisioned := []string{"Microsoft.VCLibs.140.00_14.0.30704.0_x64__8wekyb3d8bbwe"}
	if !ed.server() {
		provisioned = append(provisioned,
			"Microsoft.DesktopAppInstaller_1.21.3482.0_x64__8wekyb3d8bbwe",
			"Microsoft.WindowsCalculator_11.2307.4.0_x64__8wekyb3d8bbwe",
			"Microsoft.WindowsStore_22307.1401.1.0_x64__8wekyb3d8bbwe",
			"Microsoft.Windows.Photos_2023.11070.10001.0_x64__8wekyb3d8bbwe",
		)
		if ed.windows == "11" {
			provisioned = append(provisioned,
				"Microsoft.WindowsNotepad_11.2307.27.0_x64__8wekyb3d8bbwe",
				"Microsoft.WindowsTerminal_1.18.3181.0_x64__8wekyb3d8bbwe",
			)
		}
	}
	for _, n := range inbox {
		st.packages = append(st.packages, appxPackage{fullName: n, inbox: true})
	}
	for _, n := range provisioned {
		st.packages = append(st.packages, appxPackage{fullName: n, provisioned: true})
	}
	// The user has every package; the newest installs are still in the WAL.
	for i, p := range st.packages {
		st.installs = append(st.installs, appxInstall{fullName: p.fullName, userSID: v.id.userSID(), recent: i%2 == 1})
	}
	st.walSalts = [2]uint32{v.rng.Uint32(), v.rng.Uint32()}
	v.appx = st
}

// buildAppxRegistry mirrors the repository in SOFTWARE's AppxAllUserStore.
// It runs again after blockers changed the repository.
func (v *volume) buildAppxRegistry(t *regTree) {
	t.deleteKey(allUserStore)
	t.key(allUserStore)
	for _, p := range v.appx.packages {
		switch {
		case p.inbox:
			t.sz(allUserStore+`\InboxApplications\`+p.fullName, "Path", p.location()+`\AppxManifest.xml`)
		case p.provisioned:
			t.sz(allUserStore+`\Applications\`+p.fullName, "Path", p.location()+`\AppxManifest.xml`)
		}
	}
	// Removed by the image's builder for every future user: not blocking.
	t.key(allUserStore + `\Deprovisioned\Microsoft.MicrosoftSolitaireCollection_8wekyb3d8bbwe`)
	t.key(allUserStore + `\Staged`)
	for _, in := range v.appx.installs {
		if in.userSID == "S-1-5-18" || v.appx.isInbox(in.fullName) {
			continue // inbox packages are Windows' own and never listed per user
		}
		t.key(allUserStore + `\` + in.userSID + `\` + in.fullName)
	}
}

func (st *appxState) isInbox(fullName string) bool {
	for _, p := range st.packages {
		if p.fullName == fullName {
			return p.inbox
		}
	}
	return false
}

// manifests writes an AppxManifest.xml for every non-inbox package.
func (v *volume) buildAppxManifests() {
	for _, p := range v.appx.packages {
		if p.inbox {
			continue
		}
		parts := strings.Split(p.fullName, "_")
		v.text("Program Files/WindowsApps/"+p.fullName+"/AppxManifest.xml", fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10" IgnorableNamespaces="">
  <Identity Name="%s" Publisher="CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US" Version="%s" ProcessorArchitecture="%s" />
  <Properties>
    <DisplayName>%s</DisplayName>
    <PublisherDisplayName>Microsoft Corporation</PublisherDisplayName>
    <Logo>Assets\StoreLogo.png</Logo>
  </Properties>
  <Dependencies>
    <TargetDeviceFamily Name="Windows.Desktop" MinVersion="10.0.17763.0" MaxVersionTested="10.0.22621.0" />
  </Dependencies>
</Package>
`, parts[0], parts[1], parts[2], parts[0]))
	}
}

const srdSchema = `
CREATE TABLE Package(
  _PackageID INTEGER PRIMARY KEY,
  PackageFullName TEXT NOT NULL UNIQUE,
  PackageFamilyName TEXT NOT NULL,
  IsInbox INTEGER NOT NULL DEFAULT 0,
  Version INTEGER NOT NULL,
  Architecture INTEGER NOT NULL,
  InstalledLocation TEXT);
CREATE TABLE User(
  _UserID INTEGER PRIMARY KEY,
  UserSid TEXT NOT NULL UNIQUE);
CREATE TABLE PackageUser(
  _PackageUserID INTEGER PRIMARY KEY,
  Package INTEGER NOT NULL REFERENCES Package(_PackageID),
  User INTEGER NOT NULL REFERENCES User(_UserID),
  DeploymentState INTEGER NOT NULL);
CREATE INDEX PackageUser_ByPackage ON PackageUser(Package);
CREATE INDEX PackageUser_ByUser ON PackageUser(User);
CREATE INDEX Package_ByFamily ON Package(PackageFamilyName);
`

// deploymentInstalled is PackageUser.DeploymentState for an installed package.
const deploymentInstalled = 2

// write creates the repository: the schema, packages and users
// checkpointed into the main file, the recent installs only in the WAL,
// which is left beside it as a running system leaves it.
//
// SQLite checkpoints and deletes the WAL when the last connection closes,
// so the database is built in a scratch directory inside the volume and
// its two files are read while the connection is still open.
func (st *appxState) write(root string) error {
	final := filepath.Join(root, filepath.FromSlash(srdPath))
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(final), err)
	}
	scratch, err := os.MkdirTemp(filepath.Dir(final), ".reseal-sample-")
	if err != nil {
		return fmt.Errorf("create scratch directory for %s: %w", srdPath, err)
	}
	defer os.RemoveAll(scratch)
	dbFile := filepath.Join(scratch, "StateRepository-Machine.srd")
	main, wal, err := st.build(dbFile)
	if err != nil {
		return fmt.Errorf("build %s: %w", srdPath, err)
	}
	wal, err = resaltWAL(wal, st.walSalts)
	if err != nil {
		return fmt.Errorf("build %s-wal: %w", srdPath, err)
	}
	if err := os.WriteFile(final, main, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", srdPath, err)
	}
	if err := os.WriteFile(final+"-wal", wal, 0o644); err != nil {
		return fmt.Errorf("write %s-wal: %w", srdPath, err)
	}
	return nil
}

func (st *appxState) build(dbFile string) (main, wal []byte, err error) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+dbFile)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // one connection: the pragmas below are per connection
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		if err == nil {
			_, err = conn.ExecContext(ctx, q, args...)
			if err != nil {
				err = fmt.Errorf("%.40s: %w", strings.TrimSpace(q), err)
			}
		}
	}
	exec("PRAGMA page_size=4096")
	exec("PRAGMA journal_mode=WAL")
	exec("PRAGMA wal_autocheckpoint=0")
	exec("BEGIN")
	exec(srdSchema)
	for i, p := range st.packages {
		exec("INSERT INTO Package VALUES(?,?,?,?,?,?,?)", i+1, p.fullName, p.family(), boolInt(p.inbox), p.packedVersion(), p.architecture(), p.location())
	}
	for i, u := range st.users {
		exec("INSERT INTO User VALUES(?,?)", i+1, u)
	}
	writeInstalls := func(recent bool) {
		for i, in := range st.installs {
			if in.recent != recent {
				continue
			}
			pkg := slices.IndexFunc(st.packages, func(p appxPackage) bool { return p.fullName == in.fullName }) + 1
			user := slices.Index(st.users, in.userSID) + 1
			exec("INSERT INTO PackageUser VALUES(?,?,?,?)", i+1, pkg, user, deploymentInstalled)
		}
	}
	writeInstalls(false)
	exec("COMMIT")
	exec("PRAGMA wal_checkpoint(TRUNCATE)")
	exec("BEGIN")
	writeInstalls(true)
	exec("COMMIT")
	if err != nil {
		return nil, nil, err
	}
	if main, err = os.ReadFile(dbFile); err != nil {
		return nil, nil, err
	}
	if wal, err = os.ReadFile(dbFile + "-wal"); err != nil {
		return nil, nil, err
	}
	return main, wal, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
