package sysprep

import (
	"github.com/reseal/reseal/winimage"
)

// sppnpSettingsKey is where Sysprep's PnP provider keeps the generalize
// pass's PnP settings for the specialize pass to read again.
var sppnpSettingsKey = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\Windows\CurrentVersion\Setup\Sysprep\Settings\sppnp`}

// planPnPSettings records the answer file's PnpSysprep settings where
// sppnp.dll keeps them (docs/fidelity.md): specialize reads
// PersistAllDeviceInstalls and DoNotCleanUpNonPresentDevices from there.
// --mode vm keeps device installs, which is what PersistAllDeviceInstalls
// says too.
func planPnPSettings(v *winimage.Volume, o *Options) ([]Action, error) {
	persist := o.run.settings.PersistAllDeviceInstalls || o.VM
	return []Action{
		setDWord(sppnpSettingsKey, "PersistAllDeviceInstalls", boolDWord(persist)),
		setDWord(sppnpSettingsKey, "DoNotCleanUpNonPresentDevices", boolDWord(o.run.settings.DoNotCleanUpNonPresentDevices)),
	}, nil
}

func boolDWord(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
