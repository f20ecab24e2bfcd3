package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/reseal/reseal/wim"
)

// refUsage is the --ref paragraph of the usages of the commands that read
// images (apply, verify, extract, export, dir).
const refUsage = `  --ref FILE|GLOB     another WIM whose file data the images may use
                      (repeatable), as wimlib's --ref: the parts of a split
                      set named otherwise than PART2.swm, PART3.swm ...
                      (--ref 'disk*.swm'), or the base WIM of a delta WIM
                      (wimlib's capture --delta-from). Data is looked up by
                      SHA-1, in IMAGE.wim first; every blob read from a
                      referenced file is checked against its SHA-1. A GLOB
                      is expanded by reseal (quote it); one that matches
                      nothing is an error (exit 3)`

// addRefFlag adds the repeatable --ref flag to fs.
func addRefFlag(fs *flag.FlagSet) *stringList {
	var refs stringList
	fs.Var(&refs, "ref", "further WIM file or glob to take file data from (repeatable)")
	return &refs
}

// expandRefs turns --ref values into file names: a value naming an existing
// file is that file (even with glob characters in its name); otherwise a
// value with *, ? or [ is a glob, expanded in sorted order, directories
// left out, and one that matches no file is an error, as wimlib's is.
func expandRefs(values []string) ([]string, error) {
	var files []string
	for _, v := range values {
		if _, err := os.Stat(v); err == nil || !strings.ContainsAny(v, "*?[") {
			files = append(files, v) // a missing one is reported when opened, by name
			continue
		}
		matches, err := filepath.Glob(v)
		if err != nil {
			return nil, usageError("--ref %s: %v", v, err)
		}
		n := 0
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && !st.IsDir() {
				files = append(files, m)
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("--ref %s: no file matches it", v)
		}
	}
	return files, nil
}

// openWIMRefs opens the WIM at path with the files of the --ref values.
func openWIMRefs(path string, refValues []string) (*wim.Reader, error) {
	refs, err := expandRefs(refValues)
	if err != nil {
		return nil, err
	}
	r, err := wim.OpenWith(path, wim.OpenOptions{Refs: refs})
	if err != nil {
		return nil, refHint(err, refValues)
	}
	return r, nil
}

// refHint adds to an error about missing file data or a missing part of a
// split set, when no --ref was given, how to name the files that hold it.
func refHint(err error, refValues []string) error {
	if err == nil || len(refValues) > 0 {
		return err
	}
	switch {
	case errors.Is(err, wim.ErrPartMissing):
		return fmt.Errorf("%w; name the parts with --ref (e.g. --ref 'NAME*.swm')", err)
	case errors.Is(err, wim.ErrBlobMissing):
		return fmt.Errorf("%w; if it is a delta WIM or a split set, name the files holding its data with --ref", err)
	}
	return err
}
