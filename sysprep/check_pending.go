package sysprep

import (
	"github.com/reseal/reseal/winimage"
)

const pendingXMLPath = "Windows/WinSxS/pending.xml"

// checkPending refuses an image with servicing operations waiting for a
// reboot: one finding per source (pending.xml, PendingFileRenameOperations,
// Component Based Servicing's RebootPending).
func checkPending(v *winimage.Volume, o *Options) []Finding {
	const msg = "one or more Windows updates require a reboot: "
	fix := "boot the image once so that servicing completes, then generalize"
	var out []Finding
	if v.Exists(pendingXMLPath) {
		out = append(out, Finding{ID: "pending-servicing", Severity: SeverityError, Where: pendingXMLPath,
			Message: msg + "WinSxS\\pending.xml holds pending component operations", Fix: fix})
	}
	sm := ccs(v, `Control\Session Manager`)
	for _, name := range []string{"PendingFileRenameOperations", "PendingFileRenameOperations2"} {
		val, ok := v.Value(sm, name)
		if !ok {
			continue
		}
		ss, err := val.Strings()
		if err != nil && len(val.Data) > 4 || nonEmpty(ss) {
			out = append(out, Finding{ID: "pending-servicing", Severity: SeverityError, Where: sm.String() + `\` + name,
				Message: msg + "file rename operations are pending until the next boot", Fix: fix})
		}
	}
	for _, sub := range []string{"RebootPending", "RebootInProgress", "PackagesPending"} {
		ref := winimage.KeyRef{Hive: cbsKey.Hive, Path: cbsKey.Path + `\` + sub}
		if v.KeyExists(ref) {
			out = append(out, Finding{ID: "pending-servicing", Severity: SeverityError, Where: ref.String(),
				Message: msg + "Component Based Servicing reports " + sub, Fix: fix})
		}
	}
	return out
}

func nonEmpty(ss []string) bool {
	for _, s := range ss {
		if s != "" {
			return true
		}
	}
	return false
}
