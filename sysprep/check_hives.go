package sysprep

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/reseal/reseal/winimage"
)

// machineHives are the hives of Windows\System32\config the engine reads.
var machineHives = []string{winimage.HiveSystem, winimage.HiveSoftware, winimage.HiveSAM, winimage.HiveSecurity, winimage.HiveDefault}

// checkHives opens every machine hive: one that cannot be read refuses the
// run (nothing could be generalized in it), one left dirty by Windows is
// reported with what its logs recovered, since generalize writes it back
// clean with that data included.
func checkHives(v *winimage.Volume, o *Options) []Finding {
	var out []Finding
	for _, name := range machineHives {
		if !v.HaveHive(name) {
			if name == winimage.HiveSAM || name == winimage.HiveSecurity {
				out = append(out, Finding{ID: "hive-missing", Severity: SeverityWarning, Where: winimage.ConfigDir + "/" + name,
					Message: "the " + name + " hive is missing; what generalize does in it is skipped"})
			}
			continue
		}
		h, err := v.Hive(name)
		if err != nil {
			out = append(out, Finding{ID: "hive-unreadable", Severity: SeverityError, Where: winimage.ConfigDir + "/" + name,
				Message: "the hive cannot be read: " + err.Error(),
				Fix:     "restore the hive from a backup (Windows\\System32\\config\\RegBack) or rebuild the image"})
			continue
		}
		if rec := h.Recovery(); rec.Dirty {
			msg := fmt.Sprintf("the %s hive was not flushed when Windows last ran", name)
			if rec.Applied {
				msg += fmt.Sprintf("; %d page(s) were recovered in memory from %s and are kept when it is written back", rec.DirtyPages, strings.Join(baseNames(rec.Logs), ", "))
			} else {
				msg += "; no usable transaction log was found beside it, so its last changes may be missing"
			}
			out = append(out, Finding{ID: "hive-dirty", Severity: SeverityInfo, Where: winimage.ConfigDir + "/" + name, Message: msg})
		}
	}
	return out
}

// baseNames keeps the file names of paths: host paths mean nothing inside
// the image, where findings are also logged.
func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
