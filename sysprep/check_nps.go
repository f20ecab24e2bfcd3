package sysprep

import (
	"fmt"
	"strings"

	"github.com/reseal/reseal/winimage"
)

// checkNPS refuses a Network Policy Server configuration with RADIUS
// clients or remote RADIUS server groups, which must be removed before
// imaging.
func checkNPS(v *winimage.Volume, o *Options) []Finding {
	clients, groups, err := v.RadiusConfig()
	if err != nil {
		return []Finding{unreadable("nps-radius", winimage.IASConfigPath, err)}
	}
	var out []Finding
	if len(clients) > 0 {
		out = append(out, Finding{ID: "nps-radius", Severity: SeverityError, Where: winimage.IASConfigPath,
			Message: fmt.Sprintf("NPS has %d RADIUS client(s) (%s); they must be removed before imaging", len(clients), strings.Join(clients, ", ")),
			Fix:     "export the NPS configuration (netsh nps export), delete the RADIUS clients, and import the configuration after deployment"})
	}
	if len(groups) > 0 {
		out = append(out, Finding{ID: "nps-radius", Severity: SeverityError, Where: winimage.IASConfigPath,
			Message: fmt.Sprintf("NPS has %d remote RADIUS server group(s) (%s); they must be removed before imaging", len(groups), strings.Join(groups, ", ")),
			Fix:     "export the NPS configuration (netsh nps export), delete the remote RADIUS server groups, and import the configuration after deployment"})
	}
	return out
}
