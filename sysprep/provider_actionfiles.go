package sysprep

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/winimage"
)

// actionFileNames are the action files generalize runs, in order
// (Specialize.xml runs at the next boot, not now).
var actionFileNames = []string{"Cleanup.xml", "Generalize.xml"}

// moduleEquivalent is what reseal does in place of a provider DLL's code.
type moduleEquivalent struct {
	does string // the reseal provider or check that covers it
}

// moduleEquivalents maps the Sysprep provider DLLs reseal has its own
// equivalent for to that equivalent; docs/fidelity.md has each one's
// evidence. A DLL not listed is reported as not run offline, with what
// Windows does about it (moduleAtSpecialize).
var moduleEquivalents = map[string]moduleEquivalent{
	"appxsysprep.dll": {"preflight check appx (packages installed for a user but not provisioned)"},
	"spopk.dll":       {"preflight check pending (pending servicing operations)"},
	"sppnp.dll":       {"provider pnp (device installs) and provider pnp-settings (Setup\\Sysprep\\Settings\\sppnp)"},
	"bdesysprep.dll":  {"the volume is readable offline, so it is not BitLocker-encrypted"},
	"slc.dll":         {"provider licensing"},
	"sppc.dll":        {"provider licensing"},
	"netsetup.dll":    {"provider domain"},
	"capisp.dll":      {"provider identity (CAPI MachineGuid; specialize creates a new one)"},
	"dhcpcsvc.dll":    {"provider identity (Tcpip6 Dhcpv6DUID, DHCP leases)"},
	"dhcpcore.dll":    {"provider identity (DHCP leases)"},
	"wuaueng.dll":     {"provider identity (Windows Update SusClientId, SusClientIDValidation, PingID, AccountDomainSid)"},
	"sqmapi.dll":      {"provider identity (SQMClient MachineId)"},
	"tssysprep.dll":   {"provider identity (Remote Desktop self-signed certificate and its thumbprint)"},
	"netprofm.dll":    {"provider identity (NetworkList profiles and signatures)"},
	"srclient.dll":    {"provider files (restore points in System Volume Information)"},
	"wer.dll":         {"provider files (WER report queues)"},
	"spmpm.dll":       {"provider mounted-devices (SYSTEM\\MountedDevices)"},
	"clipc.dll":       {"provider clipsvc (ProgramData\\Microsoft\\Windows\\ClipSVC\\tokens.dat)"},
	"spwinsat.dll":    {"provider winsat (Windows\\Performance\\WinSAT\\DataStore)"},
}

// moduleAtSpecialize says what Windows does at the next boot about a
// provider reseal cannot run offline.
var moduleAtSpecialize = map[string]string{
	"spbcd.dll":    "the BCD store keeps this machine's device elements; Windows boots from it on the same disk layout, and bcdboot at deployment rewrites it for a new one",
	"shsetup.dll":  "specialize and OOBE set up the shell again for the new machine",
	"msdtcprx.dll": "MSDTC creates a new CID when it finds none at specialize; until then clones share it",
}

// loadedActionFile is one parsed action file of the image.
type loadedActionFile struct {
	rel  string
	file *winimage.ActionFile
}

func loadActionFiles(v *winimage.Volume) ([]loadedActionFile, []Finding) {
	var out []loadedActionFile
	var findings []Finding
	for _, name := range actionFileNames {
		rel := winimage.ActionFilesDir + "/" + name
		data, err := v.ReadFile(rel, 8<<20)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			var af *winimage.ActionFile
			af, err = winimage.ParseActionFile(bytes.NewReader(data))
			if err == nil {
				out = append(out, loadedActionFile{rel: rel, file: af})
				continue
			}
		}
		findings = append(findings, Finding{ID: "action-file-invalid", Severity: SeverityError, Where: rel,
			Message: "Sysprep cannot run this action file: " + err.Error(),
			Fix:     "restore the file from the installation media"})
	}
	return out, findings
}

// actionFileResult is what the image's action files ask for, worked out
// once for preflight and plan alike: the actions, the actions that cannot
// be carried out (errors), and what each module maps to.
type actionFileResult struct {
	acts     []Action
	findings []Finding
	mapped   []string
	notRun   []string
	user     *winimage.CurrentUser // HKEY_CURRENT_USER, when an action needed it
}

// actionFiles works out the image's action files once per run.
func actionFiles(v *winimage.Volume, o *Options) *actionFileResult {
	if o.run.actionFiles != nil {
		return o.run.actionFiles
	}
	res := &actionFileResult{}
	o.run.actionFiles = res
	files, bad := loadActionFiles(v)
	res.findings = append(res.findings, bad...)
	var userErr error
	needUser := func(where string) (*winimage.CurrentUser, error) {
		if res.user != nil {
			return res.user, nil
		}
		if userErr != nil {
			return nil, userErr
		}
		cu, err := v.FindCurrentUser(o.User)
		if err != nil {
			userErr = err
			res.findings = append(res.findings, Finding{ID: "current-user-missing", Severity: SeverityError, Where: where,
				Message: "the action files change HKEY_CURRENT_USER, the hive of the account Sysprep runs as, and reseal cannot find it: " + err.Error(),
				Fix:     "give the account with --user NAME|SID (its profile's NTUSER.DAT must be on the volume), or restore the built-in Administrator's profile"})
			return nil, err
		}
		res.user = &cu
		return res.user, nil
	}
	// Whether a hive is on the volume is asked once per hive, not once per
	// action: finding the hive file resolves its path component by
	// component (an lstat each), which made 10,000 actions spend most of
	// their time there.
	haveHive := map[string]bool{}
	hiveOnVolume := func(name string) bool {
		have, known := haveHive[name]
		if !known {
			have = v.HaveHive(name)
			haveHive[name] = have
		}
		return have
	}
	arch := v.Installation.Architecture
	for _, lf := range files {
		imgs := append([]winimage.Imaging(nil), lf.file.Imaging...)
		sort.SliceStable(imgs, func(i, j int) bool { return imgs[i].Order < imgs[j].Order })
		native := map[string]bool{}
		for _, img := range imgs {
			if img.Arch == arch || img.Arch == "" || img.Arch == "neutral" {
				native[strings.ToLower(img.Assembly)] = true
			}
		}
		for _, img := range imgs {
			label := fmt.Sprintf("%s line %d", path.Base(lf.rel), img.Line)
			if img.Assembly != "" {
				label += " (" + img.Assembly
				if img.Arch != "" {
					label += ", " + img.Arch
				}
				label += ")"
			}
			if img.Exclude != "" {
				res.findings = append(res.findings, Finding{ID: "action-file-unsupported", Severity: SeverityError, Where: lf.rel,
					Message: fmt.Sprintf("%s: exclude=%q is a condition reseal does not know, so it cannot tell whether Sysprep would run this entry", label, img.Exclude),
					Fix:     "restore the action file from the installation media"})
				continue
			}
			// One entry per component: on 64-bit Windows the wow64 twin
			// of a native entry is the same provider (docs/fidelity.md).
			if img.Arch != arch && img.Arch != "" && img.Arch != "neutral" && native[strings.ToLower(img.Assembly)] {
				res.mapped = append(res.mapped, fmt.Sprintf("%s: not run again: the same component's %s entry runs", label, arch))
				continue
			}
			for _, m := range img.Validates {
				noteModule(res, label, m.Module, m.Method, true)
			}
			for _, m := range img.Modules {
				noteModule(res, label, m.Module, m.Method, false)
			}
			for _, ra := range img.Registry {
				a, err := registryAction(v, ra, needUser, hiveOnVolume, lf.rel)
				if err != nil {
					res.findings = append(res.findings, actionError(lf.rel, label, ra.Op, ra.Path, ra.Line, err))
					continue
				}
				if a != nil {
					a.Detail = strings.TrimSpace(a.Detail + " [" + label + "]")
					a.Source = label
					res.acts = append(res.acts, *a)
				}
			}
			for _, fa := range img.Files {
				profile := ""
				if strings.Contains(strings.ToLower(fa.Path), "$(runtime.userprofile)") {
					if cu, err := needUser(lf.rel); err == nil {
						profile = cu.Profile.Dir
					}
				}
				fileActs, err := fileAction(v, fa, profile)
				if err != nil {
					res.findings = append(res.findings, actionError(lf.rel, label, fa.Op, fa.Path, fa.Line, err))
					continue
				}
				for i := range fileActs {
					fileActs[i].Detail = strings.TrimSpace(fileActs[i].Detail + " [" + label + "]")
					fileActs[i].Source = label
				}
				res.acts = append(res.acts, fileActs...)
			}
		}
	}
	registeredProviders(v, res)
	if res.user != nil {
		res.mapped = append(res.mapped, fmt.Sprintf("HKEY_CURRENT_USER is %s: %s (%s)", winimage.KeyRef{Hive: res.user.Profile.SID},
			res.user.How, winPath(res.user.Profile.Hive)))
	}
	return res
}

func actionError(file, label, op, p string, line int, err error) Finding {
	return Finding{ID: "action-file-unsupported", Severity: SeverityError, Where: file,
		Message: fmt.Sprintf("%s: <%s path=%q> (line %d) cannot be carried out offline: %v; Sysprep stops on a failing action, so reseal does not generalize without it", label, op, p, line, err),
		Fix:     "restore the action file from the installation media, or report the action to reseal's maintainers"}
}

// checkActionFiles refuses action files that cannot be read or that ask
// for an action reseal cannot carry out: Sysprep would stop on them, and
// skipping them would leave the image half generalized. It also says which
// hive stands for HKEY_CURRENT_USER.
func checkActionFiles(v *winimage.Volume, o *Options) []Finding {
	res := actionFiles(v, o)
	out := append([]Finding(nil), res.findings...)
	if res.user != nil {
		out = append(out, Finding{ID: "current-user", Severity: SeverityInfo, Where: res.user.Profile.Hive,
			Message: fmt.Sprintf("HKEY_CURRENT_USER actions go to %s, the hive of %s; no other user's hive is touched", winPath(res.user.Profile.Hive), res.user.How)})
	}
	return out
}

// planActionFiles carries out the image's own action files: declarative
// registry and file actions become actions of the plan, in sysprepOrder; a
// sysprepModule or sysprepValidate (code in a DLL) is either covered by a
// reseal equivalent or reported as not run offline. Providers registered
// in the registry are reported the same way.
func planActionFiles(v *winimage.Volume, o *Options) ([]Action, error) {
	res := actionFiles(v, o)
	if len(res.findings) > 0 {
		return nil, fmt.Errorf("%s: %s", res.findings[0].Where, res.findings[0].Message)
	}
	o.run.mapped = append(o.run.mapped, res.mapped...)
	for _, n := range res.notRun {
		o.notRunOffline(n)
	}
	return res.acts, nil
}

func noteModule(res *actionFileResult, label, module, method string, validate bool) {
	base := strings.ToLower(path.Base(strings.ReplaceAll(module, `\`, "/")))
	kind := "sysprepModule"
	if validate {
		kind = "sysprepValidate"
	}
	if eq, ok := moduleEquivalents[base]; ok {
		res.mapped = append(res.mapped, fmt.Sprintf("%s: %s %s!%s -> %s", label, kind, module, method, eq.does))
		return
	}
	what := "code in a DLL, which cannot run offline"
	if at, ok := moduleAtSpecialize[base]; ok {
		what += "; " + at
	} else {
		what += "; Windows does not run it later: its effect is missing from the image"
	}
	res.notRun = append(res.notRun, fmt.Sprintf("%s: %s %s!%s is %s", label, kind, module, method, what))
}

// registeredProviders reports the providers registered in the registry
// (Setup\Sysprep\{Cleanup,Generalize}, Setup\SysPrepExternal\...).
func registeredProviders(v *winimage.Volume, res *actionFileResult) {
	for _, base := range []string{`Microsoft\Windows\CurrentVersion\Setup\Sysprep`, `Microsoft\Windows\CurrentVersion\Setup\SysPrepExternal`} {
		for _, phase := range []string{"Cleanup", "Generalize"} {
			ref := winimage.KeyRef{Hive: winimage.HiveSoftware, Path: base + `\` + phase}
			k, err := v.OpenKey(ref)
			if err != nil {
				continue
			}
			vals, err := k.Values()
			if err != nil {
				res.findings = append(res.findings, unreadable("action-file", ref.String(), err))
				continue
			}
			for _, val := range vals {
				s, err := val.String()
				if err != nil || s == "" {
					continue
				}
				module, method, _ := strings.Cut(strings.Trim(s, `"`), ",")
				noteModule(res, ref.String()+`\`+valueLabel(val.Name), strings.TrimSpace(module), strings.TrimSpace(method), false)
			}
		}
	}
}

// registryAction turns a declarative registry action into an Action (nil
// when there is nothing to do: a deleteValue or deleteKey of something
// absent). HKEY_CURRENT_USER is the hive needUser chooses.
func registryAction(v *winimage.Volume, ra winimage.RegistryAction, needUser func(string) (*winimage.CurrentUser, error), haveHive func(string) bool, where string) (*Action, error) {
	p := ra.Path
	if root, rest, isCU := currentUserPath(p); isCU {
		cu, err := needUser(where)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", root, err)
		}
		p = `HKEY_USERS\` + cu.Profile.SID
		if rest != "" {
			p += `\` + rest
		}
	}
	ref, err := v.Map(p)
	if err != nil {
		return nil, err
	}
	if !haveHive(ref.Hive) {
		return nil, fmt.Errorf("the volume has no %s hive", ref.Hive)
	}
	switch ra.Op {
	case "deleteKey":
		if ref.Path == "" {
			return nil, fmt.Errorf("refusing to delete a hive's root key")
		}
		if !v.KeyExists(ref) {
			return nil, nil
		}
		a := deleteKey(ref, "")
		return &a, nil
	case "deleteValue":
		if _, ok := v.Value(ref, ra.Name); !ok {
			return nil, nil
		}
		a := deleteValue(ref, ra.Name, "")
		return &a, nil
	case "setValue":
		if !ra.HasData {
			return nil, fmt.Errorf("setValue %s without a value attribute", valueLabel(ra.Name))
		}
		t, data, shown, err := encodeValue(ra.Type, ra.Data)
		if err != nil {
			return nil, err
		}
		a := setValue(ref, ra.Name, t, data, shown)
		return &a, nil
	}
	return nil, fmt.Errorf("unknown registry action %q", ra.Op)
}

// encodeValue turns an action file's type and value attributes into a
// registry value. Numbers are decimal or 0x hexadecimal, as Windows' action
// files write them (value="1", value="0x8002"); a leading zero is decimal,
// never octal. Binary data (REG_BINARY, REG_NONE and the resource types) is
// hex digits, optionally separated by commas or spaces; REG_MULTI_SZ
// strings are separated by \0. Anything else is an error, which preflight
// reports before the volume is touched.
func encodeValue(typ, data string) (hive.ValueType, []byte, string, error) {
	name := strings.ToUpper(strings.TrimSpace(typ))
	if name == "" {
		name = "REG_SZ"
	}
	t, ok := hive.ParseValueType(name)
	if !ok || t > hive.TypeQWord {
		return 0, nil, "", fmt.Errorf("unsupported value type %q", typ)
	}
	switch t {
	case hive.TypeString, hive.TypeExpandString, hive.TypeLink:
		if t == hive.TypeLink {
			return t, utf16z(data)[:2*len(utf16.Encode([]rune(data)))], strconv.Quote(data), nil
		}
		return t, utf16z(data), strconv.Quote(data), nil
	case hive.TypeMultiString:
		var b []byte
		for _, s := range strings.Split(data, `\0`) {
			if s != "" {
				b = append(b, utf16z(s)...)
			}
		}
		return t, append(b, 0, 0), strconv.Quote(data), nil
	case hive.TypeDWord, hive.TypeDWordBigEndian:
		n, err := parseActionNumber(data, 32)
		if err != nil {
			return 0, nil, "", fmt.Errorf("%s data %q: %w", t, data, err)
		}
		if t == hive.TypeDWordBigEndian {
			return t, binary.BigEndian.AppendUint32(nil, uint32(n)), strconv.FormatUint(n, 10), nil
		}
		return t, binary.LittleEndian.AppendUint32(nil, uint32(n)), strconv.FormatUint(n, 10), nil
	case hive.TypeQWord:
		n, err := parseActionNumber(data, 64)
		if err != nil {
			return 0, nil, "", fmt.Errorf("%s data %q: %w", t, data, err)
		}
		return t, binary.LittleEndian.AppendUint64(nil, n), strconv.FormatUint(n, 10), nil
	default: // REG_NONE, REG_BINARY, resource lists
		clean := strings.NewReplacer(",", "", " ", "", "\t", "").Replace(strings.TrimSpace(data))
		clean = strings.TrimPrefix(strings.TrimPrefix(clean, "0x"), "0X")
		b, err := hex.DecodeString(clean)
		if err != nil {
			return 0, nil, "", fmt.Errorf("%s data %q: not hex digits", t, data)
		}
		return t, b, hex.EncodeToString(b), nil
	}
}

// parseActionNumber reads decimal or 0x-hexadecimal data of the given bit
// size; a negative decimal is stored as its two's complement, as reg.exe
// does.
func parseActionNumber(s string, bits int) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("no data")
	}
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		return strconv.ParseUint(s[2:], 16, bits)
	}
	if strings.HasPrefix(s, "-") {
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return 0, err
		}
		if bits == 32 {
			return uint64(uint32(int32(n))), nil
		}
		return uint64(n), nil
	}
	return strconv.ParseUint(s, 10, bits)
}

// fileAction expands a declarative file action; the last component may be
// a wildcard pattern (*.log).
func fileAction(v *winimage.Volume, fa winimage.FileAction, userProfile string) ([]Action, error) {
	rel, err := winimage.ExpandRuntimePathFor(fa.Path, userProfile)
	if err != nil {
		return nil, err
	}
	if rel == "" || isReservedPath(rel) {
		return nil, fmt.Errorf("refusing to delete the volume root or reseal's journal or lock")
	}
	dir, pattern := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	var names []string
	if strings.ContainsAny(pattern, "*?[") {
		entries, err := v.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if ok, _ := path.Match(strings.ToUpper(pattern), strings.ToUpper(e.Name())); ok {
				names = append(names, path.Join(dir, e.Name()))
			}
		}
	} else {
		names = []string{rel}
	}
	var acts []Action
	for _, n := range names {
		onDisk, err := v.Lookup(n)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		if isReservedPath(onDisk) {
			continue // matched by a wildcard
		}
		isDir := false
		if entries, err := v.ReadDir(onDisk); err == nil && entries != nil {
			isDir = true
		} else if st, err := v.Stat(onDisk); err == nil && st.IsDir() {
			isDir = true
		}
		switch {
		case fa.Op == "deleteDirectory" && isDir:
			acts = append(acts, deleteDir(onDisk, ""))
		case fa.Op == "deleteFile" && !isDir:
			acts = append(acts, deleteFile(onDisk, ""))
		default:
			return nil, fmt.Errorf("%s is a %s", onDisk, map[bool]string{true: "directory", false: "file"}[isDir])
		}
	}
	return acts, nil
}

// currentUserPath tells whether a registry path is under HKEY_CURRENT_USER
// (any spelling) and returns the root as written and the rest.
func currentUserPath(p string) (root, rest string, ok bool) {
	p = strings.TrimLeft(p, `\`)
	root, rest, _ = strings.Cut(p, `\`)
	switch strings.ToUpper(root) {
	case "HKEY_CURRENT_USER", "HKCU":
		return root, strings.Trim(rest, `\`), true
	}
	return "", "", false
}
