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
	return plan, o.run.notRun, nil
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
