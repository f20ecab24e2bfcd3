package sysprep

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/reseal/reseal/winimage"
)

// checkImageState refuses an image a failed Sysprep run left behind
// (IMAGE_STATE_UNDEPLOYABLE, or Sysprep's SysprepCorrupt marker) and warns
// when the registry and State.ini disagree.
func checkImageState(v *winimage.Volume, o *Options) []Finding {
	var out []Finding
	regState, haveReg := v.String(setupStateKey, "ImageState")
	iniState, iniErr := readStateIni(v)
	if iniErr != nil && !errors.Is(iniErr, fs.ErrNotExist) {
		out = append(out, unreadable("invalid-state", stateIniPath, iniErr))
	}
	fix := "this image was left half-generalized by a failed Sysprep run: rebuild it from the last good image"
	if haveReg && strings.EqualFold(regState, imageStateUndeployable) {
		out = append(out, Finding{ID: "invalid-state", Severity: SeverityError, Where: setupStateKey.String() + `\ImageState`,
			Message: "the image state is IMAGE_STATE_UNDEPLOYABLE: a previous Sysprep run failed and left the image in an invalid state", Fix: fix})
	}
	if iniErr == nil && strings.EqualFold(iniState, imageStateUndeployable) {
		out = append(out, Finding{ID: "invalid-state", Severity: SeverityError, Where: stateIniPath,
			Message: "State.ini says IMAGE_STATE_UNDEPLOYABLE: a previous Sysprep run failed and left the image in an invalid state", Fix: fix})
	}
	corrupt := winimage.KeyRef{Hive: sysprepKey.Hive, Path: sysprepKey.Path + `\SysprepCorrupt`}
	if v.KeyExists(corrupt) {
		out = append(out, Finding{ID: "invalid-state", Severity: SeverityError, Where: corrupt.String(),
			Message: "Sysprep marked this installation corrupt (SysprepCorrupt): a previous run failed", Fix: fix})
	}
	if haveReg && iniErr == nil && !strings.EqualFold(regState, iniState) {
		out = append(out, Finding{ID: "image-state-mismatch", Severity: SeverityWarning, Where: stateIniPath,
			Message: "the registry says " + regState + " but State.ini says " + iniState + "; generalize writes both"})
	}
	for _, s := range []string{regState, iniState} {
		if strings.EqualFold(s, imageStateGeneralizeOOBE) || strings.EqualFold(s, imageStateGeneralizeAudit) {
			out = append(out, Finding{ID: "already-generalized", Severity: SeverityInfo, Where: setupStateKey.String(),
				Message: "the image is already generalized (" + s + ") and has not booted since; generalizing again counts as another run"})
			break
		}
	}
	return out
}

// readStateIni returns the ImageState of Windows\Setup\State\State.ini.
func readStateIni(v *winimage.Volume) (string, error) {
	data, err := v.ReadFile(stateIniPath, 64<<10)
	if err != nil {
		return "", err
	}
	return winimage.ParseStateIni(data), nil
}
