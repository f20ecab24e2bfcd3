package sysprep

import "github.com/reseal/reseal/winimage"

// Registry keys the checks and providers share.
var (
	setupStateKey   = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\Windows\CurrentVersion\Setup\State`}
	sysprepKey      = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\Windows\CurrentVersion\Setup\Sysprep`}
	resealKey       = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `reseal`}
	systemSetupKey  = winimage.KeyRef{Hive: winimage.HiveSystem, Path: `Setup`}
	cbsKey          = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\Windows\CurrentVersion\Component Based Servicing`}
	serverCompCache = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\ServerManager\ServicingStorage\ServerComponentCache`}
)

// stateIniPath is the file copy of the image state.
const stateIniPath = "Windows/Setup/State/State.ini"

// ccs names a key of the current control set.
func ccs(v *winimage.Volume, sub string) winimage.KeyRef {
	return winimage.KeyRef{Hive: winimage.HiveSystem, Path: v.CurrentControlSet(sub)}
}

// Image states (HKLM\SOFTWARE\...\Setup\State ImageState and State.ini).
const (
	imageStateComplete        = "IMAGE_STATE_COMPLETE"
	imageStateUndeployable    = "IMAGE_STATE_UNDEPLOYABLE"
	imageStateGeneralizeOOBE  = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
	imageStateGeneralizeAudit = "IMAGE_STATE_GENERALIZE_RESEAL_TO_AUDIT"
)

// maxGeneralizeRuns is how many times Sysprep may generalize one image
// (1 + 1000 further runs on Windows 8 and later).
const maxGeneralizeRuns = 1001
