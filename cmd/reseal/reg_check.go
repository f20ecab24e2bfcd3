package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/reseal/reseal/hive"
)

const regCheckUsage = `reseal reg check HIVE [--json]

Check the whole structure of a hive (after recovering a dirty one from its
logs in memory): every reachable cell well-formed, subkey lists sorted with
the right hashes, security descriptors' reference counts and list, no
overlapping cells. Prints each defect with its file offset and exits 1 if
there is any, or if the file is not a hive at all (the check's verdict on
it, with --json too); exits 3 if the file cannot be read.`

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
	if err := wantArgs(pos, 1, 1, "HIVE"); err != nil {
		return err
	}
	path := pos[0]
	h, err := openHive(ctx, path, true)
	if errors.Is(err, hive.ErrFormat) {
		// Not a hive at all: that is the check's verdict on the file.
		if *asJSON {
			if err := writeJSON(sio.Out, regCheckJSON{Hive: path, OK: false, Recovery: recoveryJSON(hive.Recovery{}),
				Problems: []regProblemJSON{{Offset: formatErrorOffset(err), Message: tidyMessage(err.Error())}}}); err != nil {
				return err
			}
		}
		return refused(err)
	}
	if err != nil {
		return err
	}
	defer h.Close()
	if err := checkContext(ctx); err != nil {
		return err
	}
	problems := h.Check()
	if *asJSON {
		list := make([]regProblemJSON, 0, len(problems))
		for _, p := range problems {
			list = append(list, regProblemJSON{Offset: p.Offset, Message: p.Message})
		}
		if err := writeJSON(sio.Out, regCheckJSON{Hive: path, OK: len(problems) == 0, Recovery: recoveryJSON(h.Recovery()), Problems: list}); err != nil {
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

// regCheckJSON is reg check's --json output.
type regCheckJSON struct {
	Hive     string           `json:"hive"`
	OK       bool             `json:"ok"`
	Recovery recoveryInfo     `json:"recovery"`
	Problems []regProblemJSON `json:"problems"`
}

type regProblemJSON struct {
	Offset  int64  `json:"offset"`
	Message string `json:"message"`
}

// formatErrorOffset is the file offset a hive format error names ("at
// offset 0x1000"), or -1 as for a Problem without one.
func formatErrorOffset(err error) int64 {
	msg := err.Error()
	i := strings.Index(msg, "at offset 0x")
	if i < 0 {
		return -1
	}
	var off int64
	fmt.Sscanf(msg[i+len("at offset "):], "0x%x", &off)
	return off
}

func runRegRecover(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet("reg recover")
	out := fs.String("o", "", "write the clean copy to this file")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, 1, "HIVE -o OUT"); err != nil {
		return err
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
	h, err := openHive(ctx, path, true)
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
		return writeJSON(sio.Out, struct {
			Hive     string       `json:"hive"`
			Output   string       `json:"output"`
			Recovery recoveryInfo `json:"recovery"`
		}{path, *out, recoveryJSON(rec)})
	}
	fmt.Fprintf(sio.Out, "%s -> %s%s\n", path, *out, recoveryNote(rec))
	return nil
}

// recoveryInfo is what log recovery did, in --json output.
type recoveryInfo struct {
	Dirty      bool     `json:"dirty"`
	Applied    bool     `json:"applied"`
	Format     string   `json:"format"`
	DirtyPages int      `json:"dirty_pages"`
	Logs       []string `json:"logs"`
}

func recoveryJSON(r hive.Recovery) recoveryInfo {
	logs := r.Logs
	if logs == nil {
		logs = []string{}
	}
	return recoveryInfo{Dirty: r.Dirty, Applied: r.Applied, Format: r.Format, DirtyPages: r.DirtyPages, Logs: logs}
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
