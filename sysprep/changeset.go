package sysprep

import (
	"context"
	"errors"
	"fmt"

	"github.com/reseal/reseal/winimage"
)

// commitBackend carries out the plan on a backend that commits itself (an
// image inside a WIM, a disk image): the plan becomes a change set (files
// removed and written, hives edited in memory) that the backend commits
// all or nothing. A directory is committed through the journal instead
// (commit).
func commitBackend(ctx context.Context, v *winimage.Volume, c winimage.Committer, o *Options, r *Report) (err error) {
	cs, err := changeSet(v, o, r)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cs.Close()) }()
	if err := c.Commit(ctx, cs); err != nil {
		return fmt.Errorf("%s: %w", v.Name(), err)
	}
	return nil
}

// changeSet turns the plan's actions into a change set, in the plan's
// order, the registry changes last (each hive once), as commit journals
// them.
func changeSet(v *winimage.Volume, o *Options, r *Report) (*winimage.ChangeSet, error) {
	// The plan is made: the read-only hives are not needed any more, and
	// the editable copies below take their memory.
	if err := v.Close(); err != nil {
		return nil, err
	}
	cs := &winimage.ChangeSet{}
	var order []string
	byHive := map[string][]Action{}
	for _, a := range r.Actions {
		if err := o.ctx().Err(); err != nil {
			return nil, err
		}
		switch a.Kind {
		case KindDeleteFile, KindDeleteDir:
			cs.Changes = append(cs.Changes, winimage.Change{Op: winimage.ChangeRemove, Path: a.op.path, Dir: a.Kind == KindDeleteDir})
		case KindWriteFile:
			rel, content, err := fileContent(v, o, r, a)
			if err != nil {
				return nil, err
			}
			cs.Changes = append(cs.Changes, winimage.Change{Op: winimage.ChangeWrite, Path: rel, Content: content})
		default:
			if a.op.key.Hive == "" {
				return nil, fmt.Errorf("action %q on %s: unknown", a.Kind, a.Target)
			}
			if _, ok := byHive[a.op.key.Hive]; !ok {
				order = append(order, a.op.key.Hive)
			}
			byHive[a.op.key.Hive] = append(byHive[a.op.key.Hive], a)
		}
	}
	for _, name := range order {
		p, err := v.HiveName(name)
		if err != nil {
			cs.Close()
			return nil, fmt.Errorf("hive %s: %w", name, err)
		}
		logs, err := v.HiveLogs(p)
		if err != nil {
			cs.Close()
			return nil, err
		}
		h, err := v.LoadHive(name, nil)
		if err != nil {
			cs.Close()
			return nil, err
		}
		cs.Changes = append(cs.Changes, winimage.Change{Op: winimage.ChangeHive, Path: p, Hive: h, Logs: logs})
		for _, a := range byHive[name] {
			if err := applyRegistry(h, a); err != nil {
				cs.Close()
				return nil, err
			}
		}
	}
	return cs, nil
}
