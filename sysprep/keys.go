package sysprep

import "github.com/reseal/reseal/winimage"

// Registry keys the checks and providers share.
var (
	setupStateKey  = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\Windows\CurrentVersion\Setup\State`}
	sysprepKey     = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\Windows\CurrentVersion\Setup\Sysprep`}
	resealKey      = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `reseal`}
	systemSetupKey = winimage.KeyRef{Hive: winimage.HiveSystem, Path: `Setup`}
	// imageServicingKey's ImageState repeats Setup\State's in images
	// Windows' own build process makes (docs/fidelity.md).
	imageServicingKey  = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\Windows\CurrentVersion\Setup\ImageServicingData`}
	sysprepStatusKey   = winimage.KeyRef{Hive: winimage.HiveSystem, Path: `Setup\Status\SysprepStatus`}
	childCompletionKey = winimage.KeyRef{Hive: winimage.HiveSystem, Path: `Setup\Status\ChildCompletion`}
	unattendPassesKey  = winimage.KeyRef{Hive: winimage.HiveSystem, Path: `Setup\Status\UnattendPasses`}
	cbsKey             = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\Windows\CurrentVersion\Component Based Servicing`}
	serverCompCache    = winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\ServerManager\ServicingStorage\ServerComponentCache`}
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

// SysprepStatus values: GeneralizationState 4 is a generalized image that
// windeploy specializes at the next boot; 7 a finished installation.
// CleanupState 2 is what the field's "reset Sysprep" fix restores and what
// installations carry after Sysprep's cleanup.
const (
	generalizationStateGeneralized = 4
	cleanupStateDone               = 2
)

// nextBootPasses are the configuration passes a generalized image runs at
// its next boots (specialize, then oobeSystem or the audit passes).
var nextBootPasses = []string{"specialize", "oobeSystem", "auditSystem", "auditUser"}

// maxGeneralizeRuns is how many times Sysprep may generalize one image
// (1 + 1000 further runs on Windows 8 and later).
const maxGeneralizeRuns = 1001
