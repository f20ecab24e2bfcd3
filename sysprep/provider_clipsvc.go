package sysprep

import (
	"github.com/reseal/reseal/winimage"
)

// clipTokensPath is the Client License Service's licence cache.
const clipTokensPath = "ProgramData/Microsoft/Windows/ClipSVC/tokens.dat"

// planClipSVC does offline what clipc.dll's ClipCleanUpState does at
// generalize: it removes the Store licence cache tokens.dat, which is bound
// to this machine; ClipSVC builds a new one (docs/fidelity.md).
func planClipSVC(v *winimage.Volume, o *Options) ([]Action, error) {
	rel, err := v.Lookup(clipTokensPath)
	if err != nil {
		return nil, nil
	}
	return []Action{deleteFile(rel, "(Store licence cache of this machine; ClipSVC rebuilds it)")}, nil
}
