package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/atomicfile"
	"github.com/reseal/reseal/sysprep"
)

// regCommands returns the commands of this area. An area lists a command
// here only once it works: unfinished features stay out of 'reseal help'.
func regCommands() []*command {
	return []*command{{
		Name:    "reg",
		Summary: "read, edit, check and recover registry hive files; import and export .reg files",
		Usage: `reseal reg SUBCOMMAND HIVE ...

Works on hive files (SYSTEM, SOFTWARE, SAM, NTUSER.DAT, ...) offline. A hive
left dirty by Windows is recovered in memory from its .LOG1/.LOG2 beside it;
commands that change a hive write it back atomically and clean, and only
then. KEY is a path below the hive's root as reg.exe and regedit users type
it: ControlSet001\Control, HKLM\SYSTEM\ControlSet001\Control or
HKEY_LOCAL_MACHINE\SYSTEM\..., HKCU\... for NTUSER.DAT, with backslashes or
forward slashes; CurrentControlSet is the control set SYSTEM\Select\Current
names. A key or value that does not exist is refused (exit 1); a file that is
not a hive is an error (exit 3), except for 'reg check', whose verdict it is
(exit 1).`,
		Sub: []*command{
			{Name: "query", Summary: "show a key's values and subkeys", Usage: regQueryUsage, Run: runRegQuery},
			{Name: "set", Summary: "set a value (creating the key if needed)", Usage: regSetUsage, Run: runRegSet},
			{Name: "delete", Summary: "delete a key with everything below it, or one value", Usage: regDeleteUsage, Run: runRegDelete},
			{Name: "export", Summary: "export a key and its subtree as a regedit .reg file", Usage: regExportUsage, Run: runRegExport},
			{Name: "import", Summary: "apply a regedit .reg file to a hive", Usage: regImportUsage, Run: runRegImport},
			{Name: "check", Summary: "check a hive's structure; exit 1 listing each defect", Usage: regCheckUsage, Run: runRegCheck},
			{Name: "recover", Summary: "write a clean copy of a hive with its transaction logs applied", Usage: regRecoverUsage, Run: runRegRecover},
		},
	}}
}

// writeFlags are the flags of every command that changes a hive.
type writeFlags struct {
	dryRun *bool
	backup *bool
}

func addWriteFlags(fs *flag.FlagSet) writeFlags {
	return writeFlags{
		dryRun: fs.Bool("dry-run", false, "report what would change and write nothing"),
		backup: fs.Bool("backup", false, "copy the hive (and its logs) to *.bak before writing"),
	}
}

// openHive opens a hive file; its errors already name the file.
func openHive(ctx context.Context, path string, readOnly bool) (*hive.Hive, error) {
	if target, hivePath, ok := splitImageHive(path); ok {
		return openImageHive(target, hivePath, readOnly)
	}
	if disk, name, ok := splitDiskHive(path); ok {
		return openDiskHive(disk, name, readOnly)
	}
	if !readOnly {
		// A hive inside a volume that a reseal run holds is that run's to
		// change; the hive's own lock (taken by hive.Open) keeps two
		// editors of the file apart.
		if err := sysprep.CheckVolumeLock(path); err != nil {
			return nil, err
		}
	}
	h, err := hive.Open(path, &hive.OpenOptions{ReadOnly: readOnly, Context: ctx})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// cleanKeyPath accepts a key path as people type it: with or without a
// leading or trailing backslash, forward slashes for backslashes; "" and
// "\" are the root. See hiveKeyPath for root names and CurrentControlSet.
func cleanKeyPath(key string) string {
	return strings.Trim(strings.ReplaceAll(key, "/", `\`), `\`)
}

// machineRoots and userRoots are the names reg.exe and regedit give the
// roots a hive file is loaded under.
var (
	machineRoots = []string{"HKLM", "HKEY_LOCAL_MACHINE"}
	userRoots    = []string{"HKCU", "HKEY_CURRENT_USER"}
	usersRoots   = []string{"HKU", "HKEY_USERS"}
	hiveNames    = []string{"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "COMPONENTS", "DRIVERS", "BCD00000000"}
)

// hiveKeyPath turns KEY as a reg.exe or regedit user types it into a path
// below the root of the hive file at hivePath: HKLM\SYSTEM\X,
// HKEY_LOCAL_MACHINE\SYSTEM\X, HKCU\X, HKU\SID\X and plain X all name X,
// with / or \ between the parts; a leading CurrentControlSet is the
// control set SYSTEM\Select\Current names. A machine root naming another
// hive than hivePath's file name (HKLM\SOFTWARE\... on a file called
// SYSTEM) is refused rather than reported as a key not found.
func hiveKeyPath(h *hive.Hive, hivePath, key string) (string, error) {
	parts := strings.FieldsFunc(strings.ReplaceAll(key, "/", `\`), func(r rune) bool { return r == '\\' })
	isOneOf := func(s string, names []string) bool {
		for _, n := range names {
			if strings.EqualFold(s, n) {
				return true
			}
		}
		return false
	}
	switch {
	case len(parts) > 0 && isOneOf(parts[0], machineRoots):
		if len(parts) < 2 {
			return "", usageError("key %s: name the hive after %s (%s\\SYSTEM\\...)", key, parts[0], parts[0])
		}
		base := filepath.Base(hivePath)
		if !strings.EqualFold(parts[1], base) && isOneOf(base, hiveNames) {
			return "", refusedError("key %s is in the %s hive, but %s is the %s hive", key, strings.ToUpper(parts[1]), hivePath, strings.ToUpper(base))
		}
		parts = parts[2:]
	case len(parts) > 0 && isOneOf(parts[0], userRoots):
		parts = parts[1:]
	case len(parts) > 1 && isOneOf(parts[0], usersRoots):
		parts = parts[2:]
	}
	if len(parts) > 0 && strings.EqualFold(parts[0], "CurrentControlSet") {
		set, err := currentControlSet(h)
		if err != nil {
			return "", refused(fmt.Errorf("%s: key %s: %w", hivePath, key, err))
		}
		parts[0] = fmt.Sprintf("ControlSet%03d", set)
	}
	return strings.Join(parts, `\`), nil
}

// currentControlSet reads SYSTEM's Select\Current, as Windows does at boot
// to choose the set CurrentControlSet links to.
func currentControlSet(h *hive.Hive) (uint64, error) {
	k, err := h.Root().OpenKey("Select")
	if err != nil {
		return 0, fmt.Errorf("CurrentControlSet needs Select\\Current (a SYSTEM hive): %w", err)
	}
	v, err := k.Value("Current")
	if err != nil {
		return 0, fmt.Errorf("CurrentControlSet needs Select\\Current (a SYSTEM hive): %w", err)
	}
	n, err := v.Uint64()
	if err != nil || n == 0 || n > 999 {
		return 0, fmt.Errorf("Select\\Current is not a control set number")
	}
	return n, nil
}

// openHiveKey opens a hive file and a key in it, given as people type it
// (see hiveKeyPath); the caller closes the hive. It returns the key's
// path below the root. A key that does not exist is refused (exit 1).
func openHiveKey(ctx context.Context, path, key string, readOnly bool) (*hive.Hive, *hive.Key, string, error) {
	h, err := openHive(ctx, path, readOnly)
	if err != nil {
		return nil, nil, "", err
	}
	rel, err := hiveKeyPath(h, path, key)
	if err != nil {
		h.Close()
		return nil, nil, "", err
	}
	k, err := h.Root().OpenKey(rel)
	if err != nil {
		h.Close()
		err = fmt.Errorf("%s: %w", path, err) // the error names the key
		if errNotExist(err) {
			err = refused(err)
		}
		return nil, nil, "", err
	}
	return h, k, rel, nil
}

// hiveKeyArgs takes the HIVE [KEY] arguments of the commands that read a
// key; KEY defaults to the root.
func hiveKeyArgs(pos []string) (path, key string, err error) {
	if len(pos) >= 1 && isWIMTarget(pos[0]) {
		// IMAGE.wim:INDEX HIVEPATH [KEY]: a hive inside an image.
		if len(pos) < 2 || len(pos) > 3 {
			return "", "", usageError("want IMAGE.wim:INDEX HIVEPATH [KEY] (HIVEPATH inside the image, e.g. Windows\\System32\\config\\SYSTEM)")
		}
		if len(pos) == 3 {
			key = pos[2]
		}
		return joinImageHive(pos[0], pos[1]), key, nil
	}
	if len(pos) >= 2 && len(pos) <= 3 && isDiskTarget(pos[0]) {
		return diskHiveArgs(pos)
	}
	if len(pos) < 1 || len(pos) > 2 {
		return "", "", usageError("want HIVE [KEY]")
	}
	if len(pos) == 2 {
		key = pos[1]
	}
	return pos[0], key, nil
}

// displayPath shows the root key as "\".
func displayPath(path string) string {
	if path == "" {
		return `\`
	}
	return path
}

// commitHive writes the changed hive back: the backup first when asked,
// then the hive's own atomic commit. It returns what the backup says of
// itself ("" without one).
func commitHive(h *hive.Hive, path string, backup bool) (string, error) {
	note := ""
	if backup {
		var err error
		if note, err = backupHive(path); err != nil {
			return "", err
		}
	}
	if err := h.Commit(); err != nil {
		return "", fmt.Errorf("%s: commit: %w", path, err)
	}
	return note, nil
}

// backupHive keeps the hive as it is before the change, in NAME.bak, and
// returns a note saying what the backup holds. The backup is usable
// alone: a dirty hive whose logs hold newer data is backed up as the state
// Windows would read (the logs folded in, written clean, so no log is
// needed and none can be replayed over it); stale NAME.LOG*.bak of an older
// backup are removed so that they are not mistaken for its logs. A clean
// hive (or a dirty one without a usable log) is copied byte for byte, with
// its logs. Restoring is renaming NAME.bak back.
func backupHive(path string) (string, error) {
	h, err := hive.Open(path, &hive.OpenOptions{ReadOnly: true})
	if err != nil {
		return "", fmt.Errorf("%s: backup: %w", path, err)
	}
	defer h.Close()
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("%s: backup: %w", path, err)
	}
	var logs, staleBackups []string
	for _, e := range entries {
		for _, suffix := range []string{".LOG", ".LOG1", ".LOG2"} {
			if strings.EqualFold(e.Name(), base+suffix) && e.Type().IsRegular() {
				logs = append(logs, filepath.Join(dir, e.Name()))
			}
			if strings.EqualFold(e.Name(), base+suffix+".bak") && e.Type().IsRegular() {
				staleBackups = append(staleBackups, filepath.Join(dir, e.Name()))
			}
		}
	}
	if rec := h.Recovery(); rec.Applied {
		if err := h.SaveAs(path + ".bak"); err != nil {
			return "", fmt.Errorf("%s: backup: %w", path, err)
		}
		for _, b := range staleBackups {
			if err := os.Remove(b); err != nil {
				return "", fmt.Errorf("%s: backup: remove the older %s: %w", path, b, err)
			}
		}
		return fmt.Sprintf("%s.bak: the hive before this change, with %d page(s) recovered from %s folded in; usable alone", path, rec.DirtyPages, baseNames(rec.Logs)), nil
	}
	for _, f := range append([]string{path}, logs...) {
		if err := copyFileAtomic(f, f+".bak"); err != nil {
			return "", fmt.Errorf("%s: backup: %w", path, err)
		}
	}
	return path + ".bak: the hive before this change", nil
}

// baseNames lists files by their base names: "SYSTEM.LOG1, SYSTEM.LOG2".
func baseNames(paths []string) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return strings.Join(names, ", ")
}

func copyFileAtomic(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.WriteFile(dst, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// finishWrite commits a changed hive unless this is a dry run, and says
// which happened.
func finishWrite(sio *stdio, h *hive.Hive, path string, wf writeFlags, changed bool) error {
	switch {
	case !changed:
		fmt.Fprintf(sio.Out, "%s: nothing to change\n", path)
		return nil
	case *wf.dryRun:
		fmt.Fprintf(sio.Out, "dry run: %s not written\n", path)
		return nil
	}
	note, err := commitHive(h, path, *wf.backup)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintf(sio.Out, "backup: %s\n", note)
	}
	if rec := h.Recovery(); rec.Applied {
		fmt.Fprintf(sio.Out, "%s: was dirty: %d page(s) recovered from %s are now in the hive itself, written clean (the logs are no longer needed)\n",
			path, rec.DirtyPages, baseNames(rec.Logs))
	}
	return nil
}

// verb words a change for a dry run ("would set") or a real one ("set").
func verb(dryRun bool, v string) string {
	if dryRun {
		return "would " + v
	}
	return v
}

func errNotExist(err error) bool { return errors.Is(err, hive.ErrNotExist) }

// checkContext stops a command that was interrupted before it writes.
func checkContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return nil
}
