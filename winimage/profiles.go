package winimage

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/reseal/reseal/hive"
)

// ProfileListKey lists the user profiles of the installation.
var ProfileListKey = KeyRef{Hive: HiveSoftware, Path: `Microsoft\Windows NT\CurrentVersion\ProfileList`}

// UserProfile is one profile of ProfileList.
type UserProfile struct {
	SID  string // S-1-5-21-...-1001
	Dir  string // volume-relative profile folder: Users/robin
	Hive string // volume-relative NTUSER.DAT, "" when the file is absent
}

// UserProfiles lists the profiles whose folder lies on this volume.
func (v *Volume) UserProfiles() ([]UserProfile, error) {
	k, err := v.OpenKey(ProfileListKey)
	if err != nil {
		return nil, nil
	}
	subs, err := k.SubKeys()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ProfileListKey, err)
	}
	var out []UserProfile
	for _, s := range subs {
		val, err := s.Value("ProfileImagePath")
		if err != nil {
			continue
		}
		raw, err := val.String()
		if err != nil {
			continue
		}
		dir, ok := volumePath(raw)
		if !ok {
			continue
		}
		p := UserProfile{SID: s.Name(), Dir: dir}
		if hp, err := v.Lookup(path.Join(dir, "NTUSER.DAT")); err == nil {
			p.Hive = hp
		} else if errors.Is(err, ErrEscape) {
			return nil, err
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SID < out[j].SID })
	return out, nil
}

// volumePath turns a Windows path of the installation (C:\Users\x,
// %SystemDrive%\Users\x, %SystemRoot%\...) into a volume-relative one.
func volumePath(p string) (string, bool) {
	lower := strings.ToLower(p)
	switch {
	case strings.HasPrefix(lower, "%systemdrive%"):
		p = strings.TrimLeft(p[len("%systemdrive%"):], `\/`)
	case strings.HasPrefix(lower, "%systemroot%"), strings.HasPrefix(lower, "%windir%"):
		p = "Windows" + p[strings.Index(p[1:], "%")+2:]
	case len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/'):
		p = p[3:]
	default:
		return "", false
	}
	parts, err := splitRel(p)
	if err != nil || len(parts) == 0 {
		return "", false
	}
	return strings.Join(parts, "/"), true
}

// UserHive opens a profile's NTUSER.DAT read-only (recovered from its logs
// in memory when dirty), once per volume; it is the hive named by the SID.
func (v *Volume) UserHive(p UserProfile) (*hive.Hive, error) {
	if p.Hive == "" {
		return nil, fmt.Errorf("profile %s has no NTUSER.DAT on this volume", p.SID)
	}
	return v.Hive(p.SID)
}

// accountDomainSIDKey holds the machine's own (account domain) SID.
var accountDomainSIDKey = KeyRef{Hive: HiveSecurity, Path: `Policy\PolAcDmS`}

// MachineSID returns the SID of the installation's local accounts
// (S-1-5-21-a-b-c), from the SECURITY hive's account domain.
func (v *Volume) MachineSID() (string, error) {
	val, ok := v.Value(accountDomainSIDKey, "")
	if !ok {
		return "", fmt.Errorf("%s: no account domain SID", accountDomainSIDKey)
	}
	sid, err := FormatSID(val.Data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", accountDomainSIDKey, err)
	}
	return sid, nil
}

// CurrentUser is the account whose hive stands for HKEY_CURRENT_USER when
// Sysprep's action files are carried out offline.
type CurrentUser struct {
	Profile UserProfile
	How     string // how it was chosen, for the report
}

// FindCurrentUser chooses HKEY_CURRENT_USER's account: the one named by
// spec (a SID, or a profile folder name such as "robin" for Users\robin),
// or with spec "" the built-in Administrator (the machine SID + -500), the
// account Sysprep runs as in audit mode. The profile must have its
// NTUSER.DAT on the volume.
func (v *Volume) FindCurrentUser(spec string) (CurrentUser, error) {
	profiles, err := v.UserProfiles()
	if err != nil {
		return CurrentUser{}, err
	}
	spec = strings.TrimSpace(spec)
	var want, how string
	switch {
	case spec == "":
		machine, err := v.MachineSID()
		if err != nil {
			return CurrentUser{}, fmt.Errorf("the built-in Administrator's SID is unknown: %w", err)
		}
		want = machine + "-500"
		how = "the built-in Administrator (" + ProfileListKey.String() + `\` + want + ")"
	case IsUserHive(spec):
		want = spec
		how = "--user " + spec
	default:
		for _, p := range profiles {
			if strings.EqualFold(path.Base(p.Dir), spec) {
				if want != "" {
					return CurrentUser{}, fmt.Errorf("--user %s: more than one profile folder is called %s; give the SID", spec, spec)
				}
				want = p.SID
			}
		}
		if want == "" {
			return CurrentUser{}, fmt.Errorf("--user %s: no profile in %s has the folder Users\\%s", spec, ProfileListKey, spec)
		}
		how = "--user " + spec + " (" + want + ")"
	}
	for _, p := range profiles {
		if strings.EqualFold(p.SID, want) {
			if p.Hive == "" {
				return CurrentUser{}, fmt.Errorf("profile %s (%s) has no NTUSER.DAT on this volume", p.SID, winPathOf(p.Dir))
			}
			return CurrentUser{Profile: p, How: how}, nil
		}
	}
	return CurrentUser{}, fmt.Errorf("no profile for %s in %s", want, ProfileListKey)
}

func winPathOf(rel string) string { return strings.ReplaceAll(rel, "/", `\`) }
