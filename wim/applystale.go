package wim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// An apply killed (SIGKILL, power lost) part-way leaves the temporary files
// it was writing (tempName: .NAME.reseal-apply-XXXXXXXX) in the target. The
// next apply or extract into the same target removes them, and only them:
// regular files whose names are exactly of that pattern, in the
// directories of its own plan (inside the target, each one proven a real
// directory: created, or found with Lstat), checked with Lstat and never
// followed. While it runs, an apply holds an advisory lock on the target
// directory (flock, on Unix): when it gets the lock, no other apply is
// writing there and every such file is stale; when another holds it, the
// files may be that apply's and are left. Where there is no such lock
// (Windows), only files unchanged for staleApplyAge are taken as stale.

// staleApplyAge is how long, without the target's lock, an apply's
// temporary must have gone unchanged to count as left by a killed one.
const staleApplyAge = 10 * time.Minute

// applyTempMark is what tempName puts between the name and the random part.
const applyTempMark = ".reseal-apply-"

// isApplyTemp reports whether name is of tempName's pattern:
// "." + a non-empty name + applyTempMark + 8 lowercase hex digits.
func isApplyTemp(name string) bool {
	n := len(name) - 8 - len(applyTempMark)
	if n < 2 || name[0] != '.' || name[n:n+len(applyTempMark)] != applyTempMark {
		return false
	}
	for _, c := range []byte(name[len(name)-8:]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// removeStaleTemps removes apply's temporaries from each of dirs (see
// above; minAge 0 when this apply holds the target's lock). It returns the
// number removed and the first error other than a file already gone.
func removeStaleTemps(dirs []string, minAge time.Duration) (int, error) {
	removed := 0
	var first error
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		for _, e := range entries {
			if !isApplyTemp(e.Name()) || !e.Type().IsRegular() {
				continue
			}
			p := filepath.Join(dir, e.Name())
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() || (minAge > 0 && time.Since(fi.ModTime()) < minAge) {
				continue
			}
			// A name swapped for a link meanwhile: Remove unlinks the
			// link itself, never what it points to.
			if err := os.Remove(p); err == nil {
				removed++
			} else if !errors.Is(err, fs.ErrNotExist) && first == nil {
				first = err
			}
		}
	}
	return removed, first
}

// removeStaleTemps removes a killed apply's temporaries from the existing
// directories of a's plan and says so (a warning, as the files were in the
// user's target).
func (a *applier) removeStaleTemps(existing []string, locked bool) {
	minAge := time.Duration(0)
	if !locked {
		minAge = staleApplyAge
	}
	n, err := removeStaleTemps(existing, minAge)
	if (n > 0 || err != nil) && a.opts.Warning != nil {
		msg := fmt.Sprintf("removed %d temporary file(s) an interrupted apply left in %s", n, a.dest)
		if err != nil {
			msg += fmt.Sprintf(" (some could not be: %v)", err)
		}
		a.opts.Warning(msg)
	}
}
