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

// moduleEquivalents maps the Sysprep provider DLLs reseal has its own
// equivalent for to that equivalent.
var moduleEquivalents = map[string]string{
	"appxsysprep.dll": "preflight check appx (packages installed for a user but not provisioned)",
	"spopk.dll":       "preflight check pending (pending servicing operations)",
	"sppnp.dll":       "provider pnp (device installs)",
	"bdesysprep.dll":  "the volume is readable offline, so it is not BitLocker-encrypted",
	"slc.dll":         "provider licensing",
	"sppc.dll":        "provider licensing",
	"capisp.dll":      "provider identity (CAPI MachineGuid)",
	"netsetup.dll":    "provider domain",
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

// checkActionFiles refuses action files that cannot be read: Sysprep would
// fail on them too, and their actions would otherwise be skipped.
func checkActionFiles(v *winimage.Volume, o *Options) []Finding {
	_, findings := loadActionFiles(v)
	return findings
}

// planActionFiles carries out the image's own action files: declarative
// registry and file actions become actions of the plan, in sysprepOrder; a
// sysprepModule (code in a DLL) is either covered by a reseal equivalent or
// reported as not run offline. Providers registered in the registry are
// reported the same way.
func planActionFiles(v *winimage.Volume, o *Options) ([]Action, error) {
	files, bad := loadActionFiles(v)
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: %s", bad[0].Where, bad[0].Message)
	}
	var acts []Action
	for _, lf := range files {
		imgs := append([]winimage.Imaging(nil), lf.file.Imaging...)
		sort.SliceStable(imgs, func(i, j int) bool { return imgs[i].Order < imgs[j].Order })
		for _, img := range imgs {
			label := fmt.Sprintf("%s line %d", path.Base(lf.rel), img.Line)
			if img.Assembly != "" {
				label += " (" + img.Assembly + ")"
			}
			for _, m := range append(append([]winimage.ModuleCall(nil), img.Validates...), img.Modules...) {
				noteModule(o, label, m.Module, m.Method)
			}
			for _, ra := range img.Registry {
				a, err := registryAction(v, ra)
				if err != nil {
					o.notRunOffline(fmt.Sprintf("%s: <%s path=%q>: %v", label, ra.Op, ra.Path, err))
					continue
				}
				if a != nil {
					a.Detail = strings.TrimSpace(a.Detail + " [" + label + "]")
					a.Source = label
					acts = append(acts, *a)
				}
			}
			for _, fa := range img.Files {
				fileActs, err := fileAction(v, fa)
				if err != nil {
					o.notRunOffline(fmt.Sprintf("%s: <%s path=%q>: %v", label, fa.Op, fa.Path, err))
					continue
				}
				for i := range fileActs {
					fileActs[i].Detail = strings.TrimSpace(fileActs[i].Detail + " [" + label + "]")
					fileActs[i].Source = label
				}
				acts = append(acts, fileActs...)
			}
		}
	}
	registeredProviders(v, o)
	return acts, nil
}

func noteModule(o *Options, label, module, method string) {
	base := strings.ToLower(path.Base(strings.ReplaceAll(module, `\`, "/")))
	if eq, ok := moduleEquivalents[base]; ok {
		o.run.mapped = append(o.run.mapped, fmt.Sprintf("%s: %s!%s -> %s", label, module, method, eq))
		return
	}
	o.notRunOffline(fmt.Sprintf("%s: %s!%s is code in a DLL and cannot run offline", label, module, method))
}

// registeredProviders reports the providers registered in the registry
// (Setup\Sysprep\{Cleanup,Generalize}, Setup\SysPrepExternal\...).
func registeredProviders(v *winimage.Volume, o *Options) {
	for _, base := range []string{`Microsoft\Windows\CurrentVersion\Setup\Sysprep`, `Microsoft\Windows\CurrentVersion\Setup\SysPrepExternal`} {
		for _, phase := range []string{"Cleanup", "Generalize"} {
			ref := winimage.KeyRef{Hive: winimage.HiveSoftware, Path: base + `\` + phase}
			k, err := v.OpenKey(ref)
			if err != nil {
				continue
			}
			vals, err := k.Values()
			if err != nil {
				o.notRunOffline(fmt.Sprintf("%s: unreadable: %v", ref, err))
				continue
			}
			for _, val := range vals {
				s, err := val.String()
				if err != nil || s == "" {
					continue
				}
				module, method, _ := strings.Cut(strings.Trim(s, `"`), ",")
				noteModule(o, ref.String()+`\`+valueLabel(val.Name), strings.TrimSpace(module), strings.TrimSpace(method))
			}
		}
	}
}

func registryAction(v *winimage.Volume, ra winimage.RegistryAction) (*Action, error) {
	ref, err := v.Map(ra.Path)
	if err != nil {
		return nil, err
	}
	if !v.HaveHive(ref.Hive) {
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
func fileAction(v *winimage.Volume, fa winimage.FileAction) ([]Action, error) {
	rel, err := winimage.ExpandRuntimePath(fa.Path)
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
