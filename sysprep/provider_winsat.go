package sysprep

import (
	"path"

	"github.com/reseal/reseal/winimage"
)

// winsatDataStore holds the Windows System Assessment results of this
// machine's hardware.
const winsatDataStore = "Windows/Performance/WinSAT/DataStore"

// planWinSAT does offline what spwinsat.dll does at generalize: it removes
// the assessment results, which describe the reference machine's hardware
// (docs/fidelity.md). The DataStore folder itself stays.
func planWinSAT(v *winimage.Volume, o *Options) ([]Action, error) {
	entries, err := v.ReadDir(winsatDataStore)
	if err != nil {
		return nil, nil
	}
	dir, err := v.Lookup(winsatDataStore)
	if err != nil {
		return nil, nil
	}
	var acts []Action
	for _, e := range entries {
		rel := path.Join(dir, e.Name())
		if e.IsDir() {
			acts = append(acts, deleteDir(rel, "(WinSAT results of the reference machine)"))
			continue
		}
		acts = append(acts, deleteFile(rel, "(WinSAT results of the reference machine)"))
	}
	return acts, nil
}
