package sysprep

import (
	"fmt"

	"github.com/reseal/reseal/winimage"
)

// unsupportedRoles are the server roles Sysprep never supports ("Sysprep
// Support for Server Roles"), by their Server Manager names.
var unsupportedRoles = []struct{ name, title string }{
	{"AD-Domain-Services", "Active Directory Domain Services"},
	{"ADCS-Cert-Authority", "Active Directory Certificate Services"},
	{"ADFS-Federation", "Active Directory Federation Services"},
	{"ADLDS", "Active Directory Lightweight Directory Services"},
	{"ADRMS", "Active Directory Rights Management Services"},
	{"Fax", "Fax Server"},
	{"NPAS", "Network Policy and Access Services"},
	{"UpdateServices", "Windows Server Update Services"},
}

// checkServerRoles refuses a server with a role Sysprep cannot generalize.
// Server Manager's component cache records installed roles (InstallState 1);
// a domain controller is also recognised by its NTDS database parameters.
func checkServerRoles(v *winimage.Volume, o *Options) []Finding {
	var out []Finding
	found := map[string]bool{}
	for _, r := range unsupportedRoles {
		ref := winimage.KeyRef{Hive: serverCompCache.Hive, Path: serverCompCache.Path + `\` + r.name}
		state, ok := v.Integer(ref, "InstallState")
		if !ok || state != 1 {
			continue
		}
		found[r.name] = true
		out = append(out, roleFinding(r.name, r.title, ref.String()+`\InstallState`))
	}
	ntds := ccs(v, `Services\NTDS\Parameters`)
	if !found["AD-Domain-Services"] && v.KeyExists(ntds) {
		if _, ok := v.Value(ntds, "DSA Database file"); ok {
			out = append(out, roleFinding("AD-Domain-Services", "Active Directory Domain Services", ntds.String()))
		}
	}
	return out
}

func roleFinding(name, title, where string) Finding {
	return Finding{ID: "server-role", Severity: SeverityError, Where: where,
		Message: fmt.Sprintf("the server role %s (%s) is installed; Sysprep does not support generalizing a server with this role", title, name),
		Fix:     fmt.Sprintf("remove the role before imaging (Uninstall-WindowsFeature %s) and install it after deployment", name)}
}
