package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reseal/reseal/hive"
)

const regCheckUsage = `reseal reg check HIVE [--json]

Check the whole structure of a hive (after recovering a dirty one from its
logs in memory): every reachable cell well-formed, subkey lists sorted with
the right hashes, security descriptors' reference counts and list, no
overlapping cells. Prints each defect with its file offset and exits 1 if
there is any; exits 3 if the file cannot be read as a hive at all.`

const regRecoverUsage = `reseal reg recover HIVE -o OUT [--json]

Write a clean copy of HIVE to OUT (replaced atomically): a dirty hive is
recovered from the transaction logs beside it (HIVE.LOG1/.LOG2, or .LOG),
and the copy has equal sequence numbers and a correct checksum, so no log
is needed to read it. HIVE and its logs are not changed.`

func runRegCheck(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("reg check")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("want HIVE")
	}
	path := pos[0]
	h, err := openHive(path, true)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := checkContext(ctx); err != nil {
		return err
	}
	problems := h.Check()
	if *asJSON {
		list := make([]map[string]any, 0, len(problems))
		for _, p := range problems {
			list = append(list, map[string]any{"offset": p.Offset, "message": p.Message})
		}
		if err := writeJSON(sio.Out, map[string]any{"hive": path, "ok": len(problems) == 0, "recovery": recoveryJSON(h.Recovery()), "problems": list}); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintf(sio.Out, "%s: offset 0x%x: %s\n", path, p.Offset, p.Message)
		}
		if len(problems) == 0 {
			fmt.Fprintf(sio.Out, "%s: ok%s\n", path, recoveryNote(h.Recovery()))
		}
	}
	if len(problems) > 0 {
		return refusedError("%s: %d defects", path, len(problems))
	}
	return nil
}

func runRegRecover(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("reg recover")
	out := fs.String("o", "", "write the clean copy to this file")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("want HIVE -o OUT")
	}
	path := pos[0]
	if *out == "" {
		return usageError("missing -o OUT")
	}
	if same, err := samePath(path, *out); err != nil {
		return err
	} else if same {
		return usageError("-o %s is the hive itself; write the copy elsewhere", *out)
	}
	h, err := openHive(path, true)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := checkContext(ctx); err != nil {
		return err
	}
	if err := h.SaveAs(*out); err != nil {
		return fmt.Errorf("%s: write clean copy: %w", *out, err)
	}
	rec := h.Recovery()
	if *asJSON {
		return writeJSON(sio.Out, map[string]any{"hive": path, "output": *out, "recovery": recoveryJSON(rec)})
	}
	fmt.Fprintf(sio.Out, "%s -> %s%s\n", path, *out, recoveryNote(rec))
	return nil
}

func recoveryJSON(r hive.Recovery) map[string]any {
	logs := r.Logs
	if logs == nil {
		logs = []string{}
	}
	return map[string]any{"dirty": r.Dirty, "applied": r.Applied, "format": r.Format, "dirty_pages": r.DirtyPages, "logs": logs}
}

// recoveryNote says in words what log recovery did.
func recoveryNote(r hive.Recovery) string {
	switch {
	case r.Applied:
		names := make([]string, len(r.Logs))
		for i, l := range r.Logs {
			names[i] = filepath.Base(l)
		}
		return fmt.Sprintf(" (dirty: %d pages recovered from %v)", r.DirtyPages, names)
	case r.Dirty:
		return " (dirty, no usable log: read as it is)"
	}
	return ""
}

// samePath reports whether a and b name the same file (b may not exist).
func samePath(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	bb, err := filepath.Abs(b)
	if err != nil {
		return false, err
	}
	if aa == bb {
		return true, nil
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb), nil
}
