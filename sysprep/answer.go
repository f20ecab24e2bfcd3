package sysprep

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/reseal/reseal/unattend"
	"github.com/reseal/reseal/winimage"
)

// loadAnswerFile parses and validates the --unattend file once per run and
// reads the generalize-pass settings the providers act on. A file that
// cannot be read at all is a failure; one that does not parse or validate
// becomes an unattend-invalid finding.
func loadAnswerFile(v *winimage.Volume, o *Options) error {
	if o.UnattendPath == "" {
		return nil
	}
	f, err := unattend.ParseFile(o.UnattendPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("answer file: %w", err)
		}
		o.run.answerEr = err
		return nil
	}
	o.run.answer = f
	o.run.answerFs = f.Validate()
	arch := v.Installation.Architecture
	o.run.settings = generalizeSettings{
		PersistAllDeviceInstalls:      settingTrue(f, arch, "Microsoft-Windows-PnpSysprep", "PersistAllDeviceInstalls"),
		DoNotCleanUpNonPresentDevices: settingTrue(f, arch, "Microsoft-Windows-PnpSysprep", "DoNotCleanUpNonPresentDevices"),
		SkipRearm:                     settingTrue(f, arch, "Microsoft-Windows-Security-SPP", "SkipRearm"),
	}
	return nil
}

// settingTrue reads a boolean generalize-pass setting for the image's
// architecture, or for any architecture when the image's is unknown or the
// file has none for it.
func settingTrue(f *unattend.File, arch, component, path string) bool {
	s, ok := f.Setting("generalize", arch, component, path)
	if !ok && arch != "" {
		s, ok = f.Setting("generalize", "", component, path)
	}
	if !ok {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true
	}
	return false
}

// checkAnswerFile reports the --unattend file's parse and validation
// problems: an answer file Windows would reject is refused before anything
// changes.
func checkAnswerFile(v *winimage.Volume, o *Options) []Finding {
	if o.UnattendPath == "" || o.run == nil {
		return nil
	}
	if o.run.answerEr != nil {
		return []Finding{{
			ID: "unattend-invalid", Severity: SeverityError, Where: o.UnattendPath,
			Message: fmt.Sprintf("the answer file cannot be parsed: %v", o.run.answerEr),
			Fix:     "fix the XML (reseal unattend validate shows where)",
		}}
	}
	var out []Finding
	for _, f := range o.run.answerFs {
		finding := Finding{
			ID: "unattend-warning", Severity: SeverityWarning,
			Where:   fmt.Sprintf("%s:%d:%d", o.UnattendPath, f.Line, f.Column),
			Message: fmt.Sprintf("%s (%s)", f.Message, f.ID),
		}
		if f.Severity == unattend.SeverityError {
			finding.ID, finding.Severity = "unattend-invalid", SeverityError
			finding.Fix = "correct the answer file; Windows Setup stops on an invalid answer file"
		}
		out = append(out, finding)
	}
	return out
}
