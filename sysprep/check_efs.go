package sysprep

import (
	"fmt"

	"github.com/reseal/reseal/winimage"
)

// efsCurrentKeys is where a user's registry names the certificate of the
// EFS key the user encrypts files with.
const efsCurrentKeys = `Software\Microsoft\Windows NT\CurrentVersion\EFS\CurrentKeys`

// checkEFS warns about users who have encrypted files with EFS: generalize
// makes those files unreadable (the keys are tied to the machine). Which
// files are encrypted is an NTFS attribute the offline tree does not carry;
// a user with an EFS key has used it.
func checkEFS(v *winimage.Volume, o *Options) []Finding {
	profiles, err := v.UserProfiles()
	if err != nil {
		return []Finding{unreadable("efs-in-use", winimage.ProfileListKey.String(), err)}
	}
	var out []Finding
	for _, p := range profiles {
		if p.Hive == "" {
			continue
		}
		h, err := v.UserHive(p)
		if err != nil {
			out = append(out, Finding{ID: "user-hive-unreadable", Severity: SeverityWarning, Where: p.Hive,
				Message: "the user's registry cannot be read, so EFS use is not known: " + err.Error()})
			continue
		}
		k, err := h.Root().OpenKey(efsCurrentKeys)
		if err != nil {
			continue
		}
		if _, err := k.Value("CertificateHash"); err != nil {
			continue
		}
		out = append(out, Finding{ID: "efs-in-use", Severity: SeverityWarning, Where: p.Hive + `\` + efsCurrentKeys,
			Message: fmt.Sprintf("user %s (%s) has an EFS key: files encrypted with EFS become unreadable after generalize", p.SID, p.Dir),
			Fix:     "decrypt them first (cipher /d /s:<folder>), or export the EFS certificate with its key (cipher /x) and import it after deployment"})
	}
	return out
}
