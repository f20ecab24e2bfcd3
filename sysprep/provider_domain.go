package sysprep

import (
	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/winimage"
)

// planDomain takes a domain member out of its domain, as generalize does:
// the primary domain SID is cleared and the primary domain name set to
// WORKGROUP (what a workgroup member's LSA policy holds), and the machine
// account secret is deleted. The domain is joined again at specialize
// (Microsoft-Windows-UnattendedJoin).
func planDomain(v *winimage.Volume, o *Options) ([]Action, error) {
	sid, ok := domainSID(v)
	if !ok {
		return nil, nil
	}
	acts := []Action{setValue(primaryDomainSIDKey, "", hive.TypeNone, []byte{}, "(empty: leaves domain "+sid+")")}
	if nameVal, ok := v.Value(primaryDomainNameKey, ""); ok {
		acts = append(acts, setValue(primaryDomainNameKey, "", nameVal.Type, winimage.EncodeLSAString("WORKGROUP", nameVal.Data),
			`"WORKGROUP" (was "`+domainName(v)+`")`))
	}
	acct := winimage.KeyRef{Hive: winimage.HiveSecurity, Path: `Policy\Secrets\$MACHINE.ACC`}
	if v.KeyExists(acct) {
		acts = append(acts, deleteKey(acct, "machine account password of the domain left"))
	}
	tcpip := ccs(v, `Services\Tcpip\Parameters`)
	for _, name := range []string{"Domain", "NV Domain"} {
		if s, ok := v.String(tcpip, name); ok && s != "" {
			acts = append(acts, setValue(tcpip, name, hive.TypeString, utf16z(""), `"" (DNS suffix of the domain left)`))
		}
	}
	return acts, nil
}
