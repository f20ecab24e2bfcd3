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
then. KEY is a path below the hive's root (ControlSet001\Control), without
HKEY_LOCAL_MACHINE\SYSTEM.`,
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
func openHive(path string, readOnly bool) (*hive.Hive, error) {
	h, err := hive.Open(path, &hive.OpenOptions{ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// cleanKeyPath accepts a key path as people type it: with or without a
// leading or trailing backslash; "" and "\" are the root.
func cleanKeyPath(key string) string {
	return strings.Trim(key, `\`)
}

// openHiveKey opens a hive file and a key in it, given as people type it
// (see cleanKeyPath); the caller closes the hive.
func openHiveKey(path, key string, readOnly bool) (*hive.Hive, *hive.Key, error) {
	h, err := openHive(path, readOnly)
	if err != nil {
		return nil, nil, err
	}
	k, err := h.Root().OpenKey(cleanKeyPath(key))
	if err != nil {
		h.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err) // the error names the key
	}
	return h, k, nil
}

// hiveKeyArgs takes the HIVE [KEY] arguments of the commands that read a
// key; KEY defaults to the root.
func hiveKeyArgs(pos []string) (path, key string, err error) {
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
// then the hive's own atomic commit.
func commitHive(h *hive.Hive, path string, backup bool) error {
	if backup {
		if err := backupHive(path); err != nil {
			return err
		}
	}
	if err := h.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", path, err)
	}
	return nil
}

// backupHive copies the hive and the transaction logs beside it to
// NAME.bak, NAME.LOG1.bak, ... (atomically; an older backup is replaced).
// Restoring is renaming them back.
func backupHive(path string) error {
	files := []string{path}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: backup: %w", path, err)
	}
	for _, e := range entries {
		for _, suffix := range []string{".LOG", ".LOG1", ".LOG2"} {
			if strings.EqualFold(e.Name(), base+suffix) && e.Type().IsRegular() {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, f := range files {
		if err := copyFileAtomic(f, f+".bak"); err != nil {
			return fmt.Errorf("%s: backup: %w", path, err)
		}
	}
	return nil
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
	if err := commitHive(h, path, *wf.backup); err != nil {
		return err
	}
	if *wf.backup {
		fmt.Fprintf(sio.Out, "backup: %s.bak\n", path)
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
