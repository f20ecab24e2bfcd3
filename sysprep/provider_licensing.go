package sysprep

import (
	"github.com/reseal/reseal/winimage"
)

// planLicensing handles the licensing state. SkipRearm=1 (answer file, or
// the SoftwareProtectionPlatform SkipRearm value) leaves it untouched, which
// is also all reseal can do offline: a rearm is carried out by the Software
// Protection service on the running system (slc.dll), so without SkipRearm
// it is reported as not run offline, never silently skipped.
func planLicensing(v *winimage.Volume, o *Options) ([]Action, error) {
	spp := winimage.KeyRef{Hive: winimage.HiveSoftware, Path: `Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform`}
	if o.run.settings.SkipRearm {
		return nil, nil
	}
	if n, ok := v.Integer(spp, "SkipRearm"); ok && n == 1 {
		return nil, nil
	}
	o.notRunOffline("licensing rearm (slc.dll, Microsoft-Windows-Security-SPP): the Software Protection service rearms only on a running system; set SkipRearm=1 to leave the licensing state as it is")
	return nil, nil
}
