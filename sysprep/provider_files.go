package sysprep

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/reseal/reseal/winimage"
)

// machineFiles says which files and folders generalize deletes: each entry
// of dir whose name matches (case-insensitively) and is not kept.
var machineFiles = []struct {
	dir   string
	match *regexp.Regexp
	keep  *regexp.Regexp
	why   string
}{
	{"Windows/System32/winevt/Logs", regexp.MustCompile(`(?i)\.evtx$`), nil, "event log"},
	{"", regexp.MustCompile(`(?i)^(pagefile|swapfile|hiberfil)\.sys$`), nil, "page, swap or hibernation file"},
	{"Windows/Temp", regexp.MustCompile(`.`), nil, "temporary file"},
	{"Windows/Prefetch", regexp.MustCompile(`(?i)\.pf$`), nil, "prefetch trace"},
	// Old setup logs; answer files Setup still searches for stay (the
	// stale-unattend check reports them).
	{"Windows/Panther", regexp.MustCompile(`.`), regexp.MustCompile(`(?i)^(unattend|autounattend\.xml|unattend\.xml)$`), "old setup log"},
	{"Windows/INF", regexp.MustCompile(`(?i)^setupapi.*\.log$`), nil, "device setup log"},
	{"Windows", regexp.MustCompile(`(?i)^memory\.dmp$`), nil, "kernel memory dump"},
	{"Windows/Minidump", regexp.MustCompile(`.`), nil, "crash dump"},
	{"Windows/LiveKernelReports", regexp.MustCompile(`(?i)\.dmp$`), nil, "live kernel dump"},
	{"ProgramData/Microsoft/Windows/WER/ReportQueue", regexp.MustCompile(`.`), nil, "error report"},
	{"ProgramData/Microsoft/Windows/WER/ReportArchive", regexp.MustCompile(`.`), nil, "error report"},
	{"$Recycle.Bin", regexp.MustCompile(`.`), nil, "recycle bin"},
	// Restore points: volume shadow copies and the older _restore folders.
	{"System Volume Information", regexp.MustCompile(`(?i)^(\{[0-9a-f-]{36}\}\{3808876b-c176-4e48-b7ae-04046e6cc752\}|_restore\{[0-9a-f-]{36}\})$`), nil, "restore point"},
}

// planFiles deletes the machine-specific files: event logs, the page,
// swap and hibernation files, temporary files, prefetch traces, old setup
// logs, crash dumps, error reports, the recycle bin and restore points.
func planFiles(v *winimage.Volume, o *Options) ([]Action, error) {
	var acts []Action
	for _, m := range machineFiles {
		entries, err := v.ReadDir(m.dir)
		if errors.Is(err, fs.ErrPermission) {
			// A folder this user may not list (System Volume Information on
			// a mounted volume): say so rather than fail the whole run.
			o.notRunOffline(fmt.Sprintf("files: %s cannot be listed (%v); its %ss were not deleted", winPath(m.dir), err, m.why))
			continue
		}
		if err != nil {
			return nil, err
		}
		dirRel := m.dir
		if dirRel != "" {
			p, err := v.Lookup(dirRel)
			if err != nil {
				continue
			}
			dirRel = p
		}
		for _, e := range entries {
			if !m.match.MatchString(e.Name()) || (m.keep != nil && m.keep.MatchString(e.Name())) {
				continue
			}
			rel := path.Join(dirRel, e.Name())
			if isReservedPath(rel) {
				continue
			}
			if e.IsDir() {
				acts = append(acts, deleteDir(rel, m.why))
				continue
			}
			acts = append(acts, deleteFile(rel, m.why+sizeNote(e)))
		}
	}
	return acts, nil
}

// isReservedPath keeps reseal's own journal and volume lock out of any
// plan: an action file's wildcard must not delete the lock of the run
// carrying it out.
func isReservedPath(rel string) bool {
	first, rest, _ := strings.Cut(rel, "/")
	if winimage.SameName(first, journalDir) {
		return true
	}
	return rest == "" && (winimage.SameName(first, LockFile) || winimage.SameName(first, takeoverFile) || winimage.SameName(first, journalBinding) ||
		strings.HasPrefix(strings.ToLower(first), lockTempPrefix))
}

func sizeNote(e fs.DirEntry) string {
	info, err := e.Info()
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" (%d bytes)", info.Size())
}
