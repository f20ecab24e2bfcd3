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
	// What windeploy reads at the first boot (docs/fidelity.md): a
	// generalization state of 4 and no setup.exe completion flag make it
	// launch setup.exe for specialize; 7 is a finished, not generalized,
	// installation. ImageServicingData\ImageState repeats the image state,
	// as Windows' own images carry it.
	acts = append(acts,
		setString(imageServicingKey, "ImageState", state),
		setDWord(sysprepStatusKey, "GeneralizationState", generalizationStateGeneralized),
		setDWord(sysprepStatusKey, "CleanupState", cleanupStateDone),
	)
	// windeploy reads the setup.exe completion flag as False when it is
	// absent, and Windows' own generalized images record neither it nor
	// the passes the next boot runs: both are removed (docs/fidelity.md;
	// reseal inspect checks for their absence).
	acts = append(acts, deleteIfPresent(v, childCompletionKey, "setup.exe", " (setup.exe completion flag: specialize has not run)")...)
	for _, pass := range nextBootPasses {
		acts = append(acts, deleteIfPresent(v, unattendPassesKey, pass, " (pass the next boot runs again)")...)
	}
	acts = append(acts, writeFile(succeededTagPath, nil, "Sysprep's success marker"))
	n, _ := v.Integer(resealKey, "GeneralizeCount")
	acts = append(acts, setDWord(resealKey, "GeneralizeCount", uint32(n+1)))
	return acts, nil
}
