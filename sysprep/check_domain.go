package sysprep

import (
	"github.com/reseal/reseal/winimage"
)

// The primary domain's SID and name, in the LSA policy.
var (
	primaryDomainSIDKey  = winimage.KeyRef{Hive: winimage.HiveSecurity, Path: `Policy\PolPrDmS`}
	primaryDomainNameKey = winimage.KeyRef{Hive: winimage.HiveSecurity, Path: `Policy\PolPrDmN`}
)

// domainName returns the name of the machine's primary domain or
// workgroup ("" when unreadable).
func domainName(v *winimage.Volume) string {
	val, ok := v.Value(primaryDomainNameKey, "")
	if !ok {
		return ""
	}
	name, err := winimage.DecodeLSAString(val.Data)
	if err != nil {
		return ""
	}
	return name
}

// domainSID returns the SID of the domain the machine belongs to, if any.
func domainSID(v *winimage.Volume) (string, bool) {
	val, ok := v.Value(primaryDomainSIDKey, "")
	if !ok || len(val.Data) < 8 {
		return "", false
	}
	sid, err := winimage.FormatSID(val.Data)
	if err != nil {
		return "", false
	}
	return sid, true
}

// checkDomain warns that a domain member leaves its domain when generalized.
func checkDomain(v *winimage.Volume, o *Options) []Finding {
	sid, ok := domainSID(v)
	if !ok {
		return nil
	}
	name := sid
	if n := domainName(v); n != "" {
		name = n + " (" + sid + ")"
	}
	return []Finding{{ID: "domain-member", Severity: SeverityWarning, Where: primaryDomainSIDKey.String(),
		Message: "the machine is a member of the domain " + name + "; generalize removes it from the domain",
		Fix:     "join the domain again at deployment (Microsoft-Windows-UnattendedJoin in the specialize pass)"}}
}
