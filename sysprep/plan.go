package sysprep

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/winimage"
)

// Action kinds.
const (
	KindSetValue    = "set-value"
	KindDeleteValue = "delete-value"
	KindDeleteKey   = "delete-key"
	KindDeleteFile  = "delete-file"
	KindDeleteDir   = "delete-dir"
	KindWriteFile   = "write-file"
)

// operation is what commit needs to carry an Action out.
type operation struct {
	key     winimage.KeyRef
	value   string
	vtype   hive.ValueType
	data    []byte
	path    string // volume-relative, forward slashes
	content []byte
	// log, for write-file: the Panther log whose content is rendered at
	// commit time (it records the run itself).
	log string
}

// provider decides part of the plan. It reads the volume and returns
// actions; it never writes.
type provider struct {
	name string
	plan func(*winimage.Volume, *Options) ([]Action, error)
}

// providers run in this order; their actions are applied in this order.
var providers = []provider{
	{"image-state", planImageState},
	{"answer-file", planAnswerFile},
	{"pnp", planPnP},
	{"pnp-settings", planPnPSettings},
	{"mounted-devices", planMountedDevices},
	{"clipsvc", planClipSVC},
	{"winsat", planWinSAT},
	{"identity", planIdentity},
	{"domain", planDomain},
	{"files", planFiles},
	{"administrator", planAdministrator},
	{"licensing", planLicensing},
	{"action-files", planActionFiles},
	{"panther-logs", planPantherLogs},
}

func makePlan(v *winimage.Volume, o *Options) ([]Action, []string, error) {
	var plan []Action
	for _, p := range providers {
		o.progress("plan " + p.name)
		if err := o.ctx().Err(); err != nil {
			return nil, nil, err
		}
		acts, err := p.plan(v, o)
		if err != nil {
			return nil, nil, fmt.Errorf("provider %s: %w", p.name, err)
		}
		for i := range acts {
			acts[i].Provider = p.name
		}
		plan = append(plan, acts...)
	}
	return dedupePlan(plan), o.run.notRun, nil
}

// dedupePlan drops an action that an earlier one already makes: the same
// deletion or the same value set to the same data (a provider and the
// image's action file often ask for one change), or a deletion inside a
// key or folder an earlier action deletes whole. The earlier action keeps
// its place and says who else asked for it. A set-value is never dropped
// for a deletion: it puts something back.
func dedupePlan(plan []Action) []Action {
	type deleted struct{ hive, prefix string }
	seen := map[string]int{}
	// gone holds the keys and folders deleted whole so far; a deletion is
	// looked up by each of its ancestors (a handful), not compared with
	// every earlier deletion, so that thousands of deletions stay linear.
	gone := map[deleted]bool{}
	out := make([]Action, 0, len(plan))
	under := func(a Action) bool {
		if a.Kind != KindDeleteValue && a.Kind != KindDeleteKey && a.Kind != KindDeleteFile && a.Kind != KindDeleteDir {
			return false
		}
		h, p := planTarget(a)
		if a.Kind == KindDeleteValue && gone[deleted{h, p}] {
			return true
		}
		for i := len(p) - 1; i >= 0; i-- {
			if p[i] == '\\' && gone[deleted{h, p[:i]}] {
				return true
			}
		}
		return false
	}
	for _, a := range plan {
		key := a.Kind + "\x00" + strings.ToUpper(a.Target) + "\x00" + strings.ToUpper(a.Value)
		if a.Kind == KindSetValue {
			key += "\x00" + a.Type + "\x00" + string(a.op.data)
		}
		if i, dup := seen[key]; dup && a.Kind != KindWriteFile {
			out[i].Detail += " (also asked for by " + alsoBy(a) + ")"
			continue
		}
		if under(a) {
			continue
		}
		seen[key] = len(out)
		out = append(out, a)
		if a.Kind == KindDeleteKey || a.Kind == KindDeleteDir {
			h, p := planTarget(a)
			gone[deleted{h, p}] = true
		}
	}
	return out
}

// planTarget is an action's hive ("" for files) and upper-case path.
func planTarget(a Action) (string, string) {
	if a.Kind == KindDeleteFile || a.Kind == KindDeleteDir || a.Kind == KindWriteFile {
		return "", strings.ToUpper(strings.ReplaceAll(a.op.path, "/", "\\"))
	}
	return strings.ToUpper(a.op.key.Hive), strings.ToUpper(a.op.key.Path)
}

func alsoBy(a Action) string {
	if a.Source != "" {
		return a.Source
	}
	return "provider " + a.Provider
}

// notRunOffline records a provider Sysprep would run that reseal cannot.
func (o *Options) notRunOffline(what string) {
	o.run.notRun = append(o.run.notRun, what)
}

func setValue(ref winimage.KeyRef, name string, t hive.ValueType, data []byte, shown string) Action {
	return Action{Kind: KindSetValue, Target: ref.String(), Detail: fmt.Sprintf("%s = %s %s", valueLabel(name), t, shown),
		Value: valueLabel(name), Type: t.String(), Data: unquoted(shown),
		op: operation{key: ref, value: name, vtype: t, data: data}}
}

func setString(ref winimage.KeyRef, name, s string) Action {
	return setValue(ref, name, hive.TypeString, utf16z(s), fmt.Sprintf("%q", s))
}

func setDWord(ref winimage.KeyRef, name string, n uint32) Action {
	return setValue(ref, name, hive.TypeDWord, binary.LittleEndian.AppendUint32(nil, n), fmt.Sprintf("%d", n))
}

func deleteValue(ref winimage.KeyRef, name, why string) Action {
	return Action{Kind: KindDeleteValue, Target: ref.String(), Detail: valueLabel(name) + why, Value: valueLabel(name), Reason: reasonText(why), op: operation{key: ref, value: name}}
}

func deleteKey(ref winimage.KeyRef, why string) Action {
	return Action{Kind: KindDeleteKey, Target: ref.String(), Detail: why, Reason: reasonText(why), op: operation{key: ref}}
}

func deleteFile(rel, why string) Action {
	return Action{Kind: KindDeleteFile, Target: winPath(rel), Detail: why, Reason: reasonText(why), op: operation{path: rel}}
}

func deleteDir(rel, why string) Action {
	return Action{Kind: KindDeleteDir, Target: winPath(rel), Detail: why, Reason: reasonText(why), op: operation{path: rel}}
}

func writeFile(rel string, content []byte, why string) Action {
	return Action{Kind: KindWriteFile, Target: winPath(rel), Detail: why, Reason: reasonText(why), op: operation{path: rel, content: content}}
}

// unquoted is shown data as the Data field holds it: a string without the
// quotes Detail puts around it.
func unquoted(shown string) string {
	if s, err := strconv.Unquote(shown); err == nil && strings.HasPrefix(shown, `"`) {
		return s
	}
	return shown
}

// reasonText is a why as the Reason field holds it: without the
// parentheses and separators it has inside Detail.
func reasonText(why string) string {
	why = strings.TrimSpace(why)
	why = strings.TrimPrefix(why, "- ")
	if strings.HasPrefix(why, "(") && strings.HasSuffix(why, ")") {
		why = why[1 : len(why)-1]
	}
	return strings.TrimSpace(why)
}

func valueLabel(name string) string {
	if name == "" {
		return "(Default)"
	}
	return name
}

// winPath shows a volume-relative path the Windows way.
func winPath(rel string) string { return strings.ReplaceAll(rel, "/", `\`) }

func utf16z(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return append(b, 0, 0)
}

// existingValue returns a delete-value action when the value exists.
func deleteIfPresent(v *winimage.Volume, ref winimage.KeyRef, name, why string) []Action {
	if _, ok := v.Value(ref, name); !ok {
		return nil
	}
	return []Action{deleteValue(ref, name, why)}
}
