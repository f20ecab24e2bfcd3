package sysprep

import (
	"github.com/reseal/reseal/winimage"
)

const succeededTagPath = "Windows/System32/Sysprep/Sysprep_succeeded.tag"

// planImageState records that the image is generalized and what the next
// boot runs: ImageState in the registry and State.ini, HKLM\SYSTEM\Setup so
// that windeploy runs specialize and then OOBE or audit mode, Sysprep's
// status values, its success tag, and the run count.
//
// Sysprep sets IMAGE_STATE_UNDEPLOYABLE while it works; reseal's commit is
// atomic, so that intermediate state never reaches the disk: the journal
// directory plays its part (see docs/generalize.md).
func planImageState(v *winimage.Volume, o *Options) ([]Action, error) {
	state := imageStateGeneralizeOOBE
	if o.Mode == ModeAudit {
		state = imageStateGeneralizeAudit
	}
	acts := []Action{
		setString(setupStateKey, "ImageState", state),
		writeFile(stateIniPath, []byte("[State]\r\nImageState="+state+"\r\n"), "image state for deployment tools"),
		setDWord(systemSetupKey, "SetupType", 2),
		setString(systemSetupKey, "CmdLine", `oobe\windeploy.exe`),
		setDWord(systemSetupKey, "SystemSetupInProgress", 1),
	}
	if o.Mode == ModeAudit {
		acts = append(acts, setDWord(systemSetupKey, "OOBEInProgress", 0), setDWord(systemSetupKey, "AuditInProgress", 1))
	} else {
		acts = append(acts, setDWord(systemSetupKey, "OOBEInProgress", 1))
		acts = append(acts, deleteIfPresent(v, systemSetupKey, "AuditInProgress", " (leaving audit mode)")...)
	}
	status := winimage.KeyRef{Hive: winimage.HiveSystem, Path: `Setup\Status\SysprepStatus`}
	acts = append(acts,
		setDWord(status, "GeneralizationState", 7),
		setDWord(status, "CleanupState", 2),
		writeFile(succeededTagPath, nil, "Sysprep's success marker"),
	)
	n, _ := v.Integer(resealKey, "GeneralizeCount")
	acts = append(acts, setDWord(resealKey, "GeneralizeCount", uint32(n+1)))
	return acts, nil
}
