package sysprep

import (
	"bytes"
	"fmt"

	"github.com/reseal/reseal/unattend"

	"github.com/reseal/reseal/winimage"
)

const answerCachePath = "Windows/Panther/unattend.xml"

// planAnswerFile caches the --unattend file where Windows Setup reads it in
// the passes after generalize (Windows\Panther\unattend.xml), with the
// generalize pass marked processed and the passwords of the passes already
// run redacted, as Windows does after each pass. The passwords of the passes
// still to come (specialize, oobeSystem, ...) stay: Windows needs them at
// the next boot, and redacting them would deploy machines without their
// accounts' passwords.
// Its generalize-pass settings were read when the run began and steer the
// PnP and licensing providers; the plan shows them.
func planAnswerFile(v *winimage.Volume, o *Options) ([]Action, error) {
	if o.run.answer == nil {
		return nil, nil
	}
	f := o.run.answer
	f.MarkPassProcessed("generalize")
	redactProcessedPasses(f)
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render answer file %s: %w", o.UnattendPath, err)
	}
	s := o.run.settings
	detail := fmt.Sprintf("answer file cache; generalize pass processed (PersistAllDeviceInstalls=%t, DoNotCleanUpNonPresentDevices=%t, SkipRearm=%t); passwords of processed passes redacted",
		s.PersistAllDeviceInstalls, s.DoNotCleanUpNonPresentDevices, s.SkipRearm)
	return []Action{writeFile(answerCachePath, buf.Bytes(), detail)}, nil
}

// processedPasses are the passes that have run once generalize is done.
var processedPasses = map[string]bool{"windowsPE": true, "offlineServicing": true, "generalize": true}

// redactProcessedPasses redacts the secrets of the passes that have run, as
// Windows does after each pass; passes still to come keep theirs.
func redactProcessedPasses(f *unattend.File) {
	for pass := range processedPasses {
		f.RedactPass(pass)
	}
}
