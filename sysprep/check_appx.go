package sysprep

import (
	"fmt"
	"sort"
	"strings"

	"github.com/reseal/reseal/winimage"
)

// appxCode is the HRESULT Sysprep fails with (ERROR_INSTALL_FAILED... 0x3cf2).
const appxCode = "0x80073cf2"

// checkAppx finds Store packages installed for a user but not provisioned
// for all users, the most common reason Sysprep refuses to generalize. Both
// stores are consulted: the state repository (SQLite, with its WAL) and the
// registry's AppxAllUserStore; a package either names is reported.
func checkAppx(v *winimage.Volume, o *Options) []Finding {
	var out []Finding
	store, err := v.ReadAppxStore()
	if err != nil {
		out = append(out, unreadable("appx", winimage.AppxAllUserStore.String(), err))
	}
	type key struct{ sid, name string }
	where := map[key][]string{}
	var order []key
	note := func(sid, name, src string) {
		k := key{sid, name}
		if _, seen := where[k]; !seen {
			order = append(order, k)
		}
		where[k] = append(where[k], src)
	}
	pkgs, err := v.AppxUserPackages(o.ctx())
	if err != nil {
		out = append(out, unreadable("appx", winimage.StateRepositoryPath, err))
	}
	for _, p := range pkgs {
		if p.Inbox || !p.Installed || p.FullName == "" || store.Provisioned[strings.ToUpper(p.FullName)] {
			continue
		}
		note(p.UserSID, p.FullName, winimage.StateRepositoryPath)
	}
	sids := make([]string, 0, len(store.PerUser))
	for sid := range store.PerUser {
		sids = append(sids, sid)
	}
	sort.Strings(sids)
	for _, sid := range sids {
		for _, name := range store.PerUser[sid] {
			if store.Provisioned[strings.ToUpper(name)] || inboxPackage(pkgs, name) {
				continue
			}
			note(sid, name, winimage.AppxAllUserStore.String()+`\`+sid+`\`+name)
		}
	}
	for _, k := range order {
		out = append(out, Finding{
			ID: "appx-not-provisioned", Severity: SeverityError, Code: appxCode,
			Where: strings.Join(where[k], "; "),
			Message: fmt.Sprintf("Package %s was installed for a user, but not provisioned for all users. This package will not function properly in the sysprep image. (user %s, %s)",
				k.name, k.sid, appxCode),
			Fix: fmt.Sprintf("as user %s: Remove-AppxPackage -Package %s ; or provision it for all users: Add-AppxProvisionedPackage -Online -PackagePath <package> -SkipLicense",
				k.sid, k.name),
		})
	}
	return out
}

func inboxPackage(pkgs []winimage.AppxUserPackage, fullName string) bool {
	for _, p := range pkgs {
		if p.Inbox && strings.EqualFold(p.FullName, fullName) {
			return true
		}
	}
	return false
}
