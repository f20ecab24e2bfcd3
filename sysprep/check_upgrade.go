package sysprep

import (
	"fmt"
	"strings"

	"github.com/reseal/reseal/winimage"
)

// minUpgradedBuild is the first build Sysprep supports on an upgraded
// installation (Windows 10 1607).
const minUpgradedBuild = 14393

// checkUpgrade refuses an installation upgraded in place from an older
// Windows when it is older than Windows 10 1607. Setup records each upgrade
// as a SYSTEM\Setup\Source OS (Updated on ...) key.
func checkUpgrade(v *winimage.Volume, o *Options) []Finding {
	k, err := v.OpenKey(systemSetupKey)
	if err != nil {
		return nil
	}
	names, err := k.SubKeyNames()
	if err != nil {
		return []Finding{unreadable("upgraded-os", systemSetupKey.String(), err)}
	}
	for _, n := range names {
		if !strings.HasPrefix(strings.ToUpper(n), "SOURCE OS") {
			continue
		}
		where := systemSetupKey.String() + `\` + n
		if v.Installation.Build < minUpgradedBuild {
			return []Finding{{ID: "upgraded-os", Severity: SeverityError, Where: where,
				Message: fmt.Sprintf("this installation was upgraded from an earlier Windows and is build %d; Sysprep supports upgraded installations only from Windows 10 1607 (build %d)", v.Installation.Build, minUpgradedBuild),
				Fix:     "build the image from a clean installation instead of an upgrade"}}
		}
		return []Finding{{ID: "upgraded-os", Severity: SeverityInfo, Where: where,
			Message: "this installation was upgraded in place; supported from Windows 10 1607 on"}}
	}
	return nil
}
