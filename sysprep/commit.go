package sysprep

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/internal/beneath"
	"github.com/reseal/reseal/winimage"
)

// commit carries out the plan: every changed hive is opened for editing
// (dirty ones are recovered from their logs in memory), changed and saved
// into the journal's staging area, every new file is staged there too, the
// journal is written and synced, and the steps are carried out as renames.
// The changed hives' transaction logs are emptied after the new hive is in
// place, and the new hive's sequence number is above every one they held
// (hive.SaveAs), so they can never be replayed over it.
func commit(v *winimage.Volume, o *Options, r *Report) (err error) {
	crash := &crashPoints{at: o.crashAt}
	root := v.Root
	// The plan is made: the read-only hives are not needed any more, and
	// the editable copies below take their memory.
	if err := v.Close(); err != nil {
		return err
	}
	vol, err := beneath.Open(root)
	if err != nil {
		return fmt.Errorf("volume %s: %w", root, err)
	}
	defer vol.Close()
	jdir := vol.Path(journalDir)
	if err := vol.Mkdir(journalDir, 0o755); err != nil {
		return fmt.Errorf("create journal: %w", err)
	}
	committed := false
	defer func() {
		if err != nil && !committed && !errors.Is(err, errCrash) {
			// Nothing on the volume changed yet.
			if vol.RemoveAll(journalDir) == nil {
				removeBinding(vol)
			}
		}
	}()
	if err := crash.point(); err != nil {
		return err
	}
	run, err := bindJournal(vol)
	if err != nil {
		return err
	}
	for _, d := range []string{stagedDir, trashDir} {
		if err := vol.Mkdir(journalDir+"/"+d, 0o755); err != nil {
			return fmt.Errorf("create journal: %w", err)
		}
	}
	j := &journal{Version: journalVersion, State: stateCommitted, Created: o.now().UTC(), Target: root, Run: run}
	staged := 0
	stage := func(write func(path string) error) (string, error) {
		name := fmt.Sprintf("%s/%04d", stagedDir, staged)
		staged++
		if err := write(filepath.Join(jdir, filepath.FromSlash(name))); err != nil {
			return "", err
		}
		return name, crash.point()
	}

	for i, a := range r.Actions {
		if err := o.ctx().Err(); err != nil {
			return err
		}
		switch a.Kind {
		case KindDeleteFile, KindDeleteDir:
			j.Steps = append(j.Steps, step{Op: "delete", Path: a.op.path, Trash: fmt.Sprintf("%s/%04d", trashDir, i)})
		case KindWriteFile:
			rel, content, err := fileContent(v, o, r, a)
			if err != nil {
				return err
			}
			name, err := stage(func(p string) error { return writeSynced(p, content) })
			if err != nil {
				return err
			}
			j.Steps = append(j.Steps, step{Op: "replace", Path: rel, Staged: name})
		}
	}

	hiveSteps, err := stageHives(v, r.Actions, stage)
	if err != nil {
		return err
	}
	j.Steps = append(j.Steps, hiveSteps...)
	for _, d := range []string{journalDir + "/" + stagedDir, journalDir + "/" + trashDir, journalDir} {
		if err := vol.SyncDir(d); err != nil {
			return err
		}
	}
	if err := crash.point(); err != nil {
		return err
	}
	// Before the commit point: every rename must be possible.
	if err := checkRenames(vol, j.Steps); err != nil {
		return err
	}
	if err := writeJournal(vol, j); err != nil {
		return err
	}
	committed = true
	if err := crash.point(); err != nil {
		return err
	}
	if _, err := carryOut(vol, j, crash); err != nil {
		if errors.Is(err, errCrash) {
			return err
		}
		return fmt.Errorf("%w (the journal in %s is complete: the next reseal command on this volume finishes the generalize)", err, jdir)
	}
	return nil
}

// fileContent resolves a write-file action's target to its on-disk
// spelling and returns what to write.
func fileContent(v *winimage.Volume, o *Options, r *Report, a Action) (string, []byte, error) {
	rel, err := v.LookupNew(a.op.path)
	if err != nil {
		return "", nil, err
	}
	switch a.op.log {
	case "":
		return rel, a.op.content, nil
	case "setupact", "setuperr":
		old, err := v.ReadFile(a.op.path, 256<<20)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", nil, err
		}
		return rel, append(old, renderRunLog(o, r, a.op.log == "setuperr")...), nil
	}
	return "", nil, fmt.Errorf("unknown log %q", a.op.log)
}

// stageHives applies the registry actions to freshly opened, editable
// copies of their hives and saves each into the staging area. Each hive
// gives a replace step and a delete step per transaction log.
func stageHives(v *winimage.Volume, acts []Action, stage func(func(string) error) (string, error)) ([]step, error) {
	var order []string
	byHive := map[string][]Action{}
	for _, a := range acts {
		if a.op.key.Hive == "" {
			continue
		}
		if _, ok := byHive[a.op.key.Hive]; !ok {
			order = append(order, a.op.key.Hive)
		}
		byHive[a.op.key.Hive] = append(byHive[a.op.key.Hive], a)
	}
	var steps []step
	for _, name := range order {
		hp, err := v.HivePath(name)
		if err != nil {
			return nil, fmt.Errorf("hive %s: %w", name, err)
		}
		h, err := hive.Open(hp, nil)
		if err != nil {
			return nil, fmt.Errorf("open hive %s: %w", hp, err)
		}
		for _, a := range byHive[name] {
			if err := applyRegistry(h, a); err != nil {
				h.Close()
				return nil, err
			}
		}
		stagedName, err := stage(func(p string) error { return h.SaveAs(p) })
		h.Close()
		if err != nil {
			return nil, fmt.Errorf("save hive %s: %w", hp, err)
		}
		rel, err := v.Rel(hp)
		if err != nil {
			return nil, err
		}
		steps = append(steps, step{Op: "replace", Path: rel, Staged: stagedName})
		logs, err := hiveLogs(hp)
		if err != nil {
			return nil, err
		}
		for _, lp := range logs {
			lrel, err := v.Rel(lp)
			if err != nil {
				return nil, err
			}
			// An empty log, as Windows leaves it after a clean flush; the new
			// hive's sequence number is above every one the old logs held.
			emptyName, err := stage(func(p string) error { return writeSynced(p, nil) })
			if err != nil {
				return nil, err
			}
			steps = append(steps, step{Op: "replace", Path: lrel, Staged: emptyName})
		}
	}
	return steps, nil
}

// hiveLogs finds a hive's transaction logs (.LOG, .LOG1, .LOG2) beside it.
func hiveLogs(hivePath string) ([]string, error) {
	dir, base := filepath.Split(hivePath)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		for _, ext := range []string{".LOG", ".LOG1", ".LOG2"} {
			if winimage.SameName(e.Name(), base+ext) {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out, nil
}

func applyRegistry(h *hive.Hive, a Action) error {
	ref := a.op.key
	root := h.Root()
	switch a.Kind {
	case KindSetValue:
		k, err := root.CreateKey(ref.Path)
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		if err := k.SetValue(a.op.value, a.op.vtype, a.op.data); err != nil {
			return fmt.Errorf("%s\\%s: %w", ref, a.op.value, err)
		}
	case KindDeleteValue:
		k, err := root.OpenKey(ref.Path)
		if errors.Is(err, hive.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		if err := k.DeleteValue(a.op.value); err != nil && !errors.Is(err, hive.ErrNotExist) {
			return fmt.Errorf("%s\\%s: %w", ref, a.op.value, err)
		}
	case KindDeleteKey:
		if ref.Path == "" || strings.Trim(ref.Path, `\`) == "" {
			return fmt.Errorf("%s: refusing to delete a hive's root key", ref)
		}
		if err := root.DeleteKey(ref.Path); err != nil && !errors.Is(err, hive.ErrNotExist) {
			return fmt.Errorf("%s: %w", ref, err)
		}
	default:
		return fmt.Errorf("%s: action %q is not a registry action", ref, a.Kind)
	}
	return nil
}

// writeSynced creates a file with content and syncs it.
func writeSynced(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}
