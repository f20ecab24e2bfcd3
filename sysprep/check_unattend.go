package sysprep

import (
	"github.com/reseal/reseal/winimage"
)

// staleAnswerFiles are the places Windows Setup searches for an answer file
// by itself, in its search order (after the registry's UnattendFile).
var staleAnswerFiles = []string{
	"Windows/Panther/Unattend/Unattend.xml",
	"Windows/Panther/Unattend/Autounattend.xml",
	answerCachePath,
	"Windows/Panther/Autounattend.xml",
	"Windows/System32/Sysprep/Unattend.xml",
	"Windows/System32/Sysprep/Autounattend.xml",
	"Unattend.xml",
	"Autounattend.xml",
}

// checkStaleAnswerFiles warns about answer files left where Windows Setup
// looks for one: at the next boot they may be used instead of, or before,
// the one intended.
func checkStaleAnswerFiles(v *winimage.Volume, o *Options) []Finding {
	var out []Finding
	if p, ok := v.String(systemSetupKey, "UnattendFile"); ok && p != "" {
		out = append(out, Finding{ID: "stale-unattend", Severity: SeverityWarning, Where: systemSetupKey.String() + `\UnattendFile`,
			Message: "the registry names an answer file (" + p + "); Windows Setup reads it before any other",
			Fix:     "delete the UnattendFile value unless that file is the one to deploy with"})
	}
	for _, rel := range staleAnswerFiles {
		if o.UnattendPath != "" && rel == answerCachePath {
			continue // replaced by the --unattend file's cached copy
		}
		shown, err := v.Lookup(rel)
		if err != nil {
			continue
		}
		msg := "an answer file is left in a place Windows Setup searches (" + shown + "); it will be used at the next boot"
		if o.UnattendPath != "" {
			msg += " and may take precedence over the one given with --unattend"
		}
		out = append(out, Finding{ID: "stale-unattend", Severity: SeverityWarning, Where: shown, Message: msg,
			Fix: "delete it, or pass it with --unattend if it is the one to deploy with"})
	}
	return out
}
