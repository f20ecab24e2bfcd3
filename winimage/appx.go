package winimage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// StateRepositoryPath is the AppX deployment database, relative to the root.
const StateRepositoryPath = "ProgramData/Microsoft/Windows/AppRepository/StateRepository-Machine.srd"

// maxStateRepository caps how much of the database (and its WAL) is copied.
const maxStateRepository = 1 << 30

// AppxUserPackage is a package the state repository records as deployed
// for one user.
type AppxUserPackage struct {
	FullName   string // Microsoft.WindowsCalculator_11.2405.2.0_x64__8wekyb3d8bbwe
	FamilyName string
	UserSID    string
	Inbox      bool // part of Windows itself, provisioned by the OS
	Installed  bool // DeploymentState says installed (or the column is absent)
}

// AppxUserPackages reads StateRepository-Machine.srd. The volume is never
// written: the database and its write-ahead log are copied to a temporary
// directory and the copy is opened, so committed transactions still in the
// WAL are seen. A volume without the database returns nil, nil.
func (v *Volume) AppxUserPackages(ctx context.Context) ([]AppxUserPackage, error) {
	src, err := v.Lookup(StateRepositoryPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "reseal-srd-*")
	if err != nil {
		return nil, fmt.Errorf("state repository: %w", err)
	}
	defer os.RemoveAll(tmp)
	dst := filepath.Join(tmp, "StateRepository-Machine.srd")
	if err := v.copyOutCapped(src, dst, maxStateRepository); err != nil {
		return nil, err
	}
	// The WAL beside the database is named with the file's own spelling.
	dir, base := path.Split(src)
	entries, _ := v.backend.ReadDir(strings.TrimSuffix(dir, "/"))
	for _, e := range entries {
		if SameName(e.Name(), base+"-wal") {
			if err := v.copyOutCapped(path.Join(dir, e.Name()), dst+"-wal", maxStateRepository); err != nil {
				return nil, err
			}
		}
	}
	return readStateRepository(ctx, dst, v.shown(src))
}

func readStateRepository(ctx context.Context, path, shownPath string) ([]AppxUserPackage, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(1000)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", shownPath, err)
	}
	defer db.Close()
	pkgCols, err := columns(ctx, db, "Package")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shownPath, err)
	}
	puCols, err := columns(ctx, db, "PackageUser")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shownPath, err)
	}
	if _, err := columns(ctx, db, "User"); err != nil {
		return nil, fmt.Errorf("%s: %w", shownPath, err)
	}
	for _, need := range []string{"_PackageID", "PackageFullName"} {
		if !pkgCols[strings.ToLower(need)] {
			return nil, fmt.Errorf("%s: table Package has no column %s", shownPath, need)
		}
	}
	family, inbox, state := "''", "0", "2"
	if pkgCols["packagefamilyname"] {
		family = "COALESCE(p.PackageFamilyName, '')"
	}
	if pkgCols["isinbox"] {
		inbox = "COALESCE(p.IsInbox, 0)"
	}
	if puCols["deploymentstate"] {
		state = "COALESCE(pu.DeploymentState, 2)"
	}
	q := fmt.Sprintf(`SELECT p.PackageFullName, %s, u.UserSid, %s, %s
		FROM PackageUser pu JOIN Package p ON p._PackageID = pu.Package JOIN User u ON u._UserID = pu.User`,
		family, inbox, state)
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", shownPath, err)
	}
	defer rows.Close()
	var out []AppxUserPackage
	for rows.Next() {
		var p AppxUserPackage
		var fullName, familyName, sid sql.NullString
		var isInbox, deployState int64
		if err := rows.Scan(&fullName, &familyName, &sid, &isInbox, &deployState); err != nil {
			return nil, fmt.Errorf("read %s: %w", shownPath, err)
		}
		p.FullName, p.FamilyName, p.UserSID = fullName.String, familyName.String, sid.String
		p.Inbox = isInbox != 0
		p.Installed = deployState == 2
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", shownPath, err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].UserSID != out[j].UserSID {
			return out[i].UserSID < out[j].UserSID
		}
		return out[i].FullName < out[j].FullName
	})
	return out, nil
}

func columns(ctx context.Context, db *sql.DB, table string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", table, err)
	}
	defer rows.Close()
	cols := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		cols[strings.ToLower(name)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("no table %s", table)
	}
	return cols, nil
}

// copyOutCapped copies a volume file (by its stored name) to a host file.
func (v *Volume) copyOutCapped(src, dst string, limit int64) error {
	shown := v.shown(src)
	in, err := v.backend.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", shown, err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("copy %s: %w", shown, err)
	}
	n, err := io.Copy(out, io.LimitReader(in, limit+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", shown, err)
	}
	if n > limit {
		return fmt.Errorf("copy %s: larger than %d bytes", shown, limit)
	}
	return nil
}

// AppxAllUserStore is where SOFTWARE records provisioned and per-user packages.
var AppxAllUserStore = KeyRef{Hive: HiveSoftware, Path: `Microsoft\Windows\CurrentVersion\Appx\AppxAllUserStore`}

// AppxStore is what AppxAllUserStore says.
type AppxStore struct {
	Provisioned map[string]bool     // upper-cased full names under Applications (and InboxApplications)
	PerUser     map[string][]string // SID -> full names installed for that user
}

// ReadAppxStore reads AppxAllUserStore from SOFTWARE (empty when absent).
func (v *Volume) ReadAppxStore() (AppxStore, error) {
	store := AppxStore{Provisioned: map[string]bool{}, PerUser: map[string][]string{}}
	k, err := v.OpenKey(AppxAllUserStore)
	if err != nil {
		return store, nil
	}
	subs, err := k.SubKeys()
	if err != nil {
		return store, fmt.Errorf("%s: %w", AppxAllUserStore, err)
	}
	for _, sub := range subs {
		name := sub.Name()
		names, err := sub.SubKeyNames()
		if err != nil {
			return store, fmt.Errorf("%s\\%s: %w", AppxAllUserStore, name, err)
		}
		switch {
		case SameName(name, "Applications"), SameName(name, "InboxApplications"):
			for _, n := range names {
				store.Provisioned[strings.ToUpper(n)] = true
			}
		case strings.HasPrefix(strings.ToUpper(name), "S-1-"):
			store.PerUser[name] = append(store.PerUser[name], names...)
		}
	}
	return store, nil
}
