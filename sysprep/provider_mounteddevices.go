package sysprep

import (
	"fmt"

	"github.com/reseal/reseal/winimage"
)

// mountedDevicesKey is the mount manager's database of drive letters and
// volume GUIDs, keyed by this machine's disk signatures.
var mountedDevicesKey = winimage.KeyRef{Hive: winimage.HiveSystem, Path: `MountedDevices`}

// planMountedDevices does offline what Sysprep's mount point manager
// provider (spmpm.dll) does at generalize: it empties SYSTEM\MountedDevices,
// so that the deployed machine assigns drive letters to its own disks
// instead of inheriting the reference machine's (docs/fidelity.md). The key
// itself stays; the mount manager fills it at the next boot.
func planMountedDevices(v *winimage.Volume, o *Options) ([]Action, error) {
	k, err := v.OpenKey(mountedDevicesKey)
	if err != nil {
		return nil, nil
	}
	vals, err := k.Values()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mountedDevicesKey, err)
	}
	var acts []Action
	for _, val := range vals {
		acts = append(acts, deleteValue(mountedDevicesKey, val.Name, " (drive letter or volume of the reference machine's disks)"))
	}
	return acts, nil
}
