package sysprep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/reseal/reseal/unattend"
	"github.com/reseal/reseal/winimage"
)

// Image states Inspect names and can be expected.
const (
	StateGeneralized = "generalized" // generalized; the next boot runs specialize, then OOBE
	StateAudit       = "audit"       // generalized; the next boot runs specialize, then audit mode
	StateComplete    = "complete"    // a finished installation, not generalized; the next boot is a normal one
)

// ExpectableStates are the states --expect takes.
func ExpectableStates() []string { return []string{StateGeneralized, StateAudit, StateComplete} }

// Inspection is what an installation says of its state, read the way
// Windows reads it at its next boot. In JSON every key is present (absent
// values are null or []).
type Inspection struct {
	Target       string                `json:"target"`
	Installation winimage.Installation `json:"installation"`
	// ImageState is SOFTWARE\...\Setup\State ImageState; StateIni the
	// ImageState of Windows\Setup\State\State.ini ("" when absent).
	ImageState string `json:"image_state"`
	StateIni   string `json:"state_ini"`
	// GeneralizationState is SYSTEM\Setup\Status\SysprepStatus
	// GeneralizationState (4: generalized, 7: finished and not generalized;
	// null when absent); SetupCompleted is ChildCompletion\setup.exe
	// (null when absent: specialize has not run since generalize).
	GeneralizationState *uint64 `json:"generalization_state"`
	SetupCompleted      *uint64 `json:"setup_completed"`
	// NextBoot is what SYSTEM\Setup makes the next boot run.
	NextBoot NextBoot `json:"next_boot"`
	// PassesDone are the answer file passes SYSTEM\Setup\Status\UnattendPasses records as run.
	PassesDone []string `json:"passes_done"`
	// AnswerFile is the answer file cached in the image for the next boot.
	AnswerFile CachedAnswerFile `json:"answer_file"`
	// GeneralizeCount is how many times reseal generalized the image.
	GeneralizeCount uint64 `json:"generalize_count"`
	// State is the image's state in one word (generalized, audit, complete,
	// or another word when it is none of those: undeployable, inconsistent).
	State string `json:"state"`
	// Verdict is one line for people.
	Verdict string `json:"verdict"`

	checks map[string][]stateCheck
}

// NextBoot is what SYSTEM\Setup says the next boot runs.
type NextBoot struct {
	SetupType             uint64 `json:"setup_type"`
	CmdLine               string `json:"cmd_line"`
	SystemSetupInProgress uint64 `json:"system_setup_in_progress"`
	OOBEInProgress        uint64 `json:"oobe_in_progress"`
	AuditInProgress       uint64 `json:"audit_in_progress"`
	Runs                  string `json:"runs"` // in words: "specialize, then OOBE"
}

// CachedAnswerFile is Windows\Panther\unattend.xml as the image holds it,
// its secrets masked.
type CachedAnswerFile struct {
	Present   bool     `json:"present"`
	Path      string   `json:"path"`
	Passes    []string `json:"passes"`
	Processed []string `json:"processed"` // passes marked wasPassProcessed="true"
	Error     string   `json:"error"`     // why it could not be read ("" when it could)
	Content   string   `json:"content"`   // the file with every password masked
}

// stateCheck is one value that a state needs.
type stateCheck struct {
	what      string
	got, want string
	ok        bool
}

// Inspect reads the installation at target (or opts.Backend) and changes
// nothing: no lock is taken and no journal recovered (an interrupted
// commit is reported by the state it left, which is what Windows would
// boot).
func Inspect(ctx context.Context, target string, opts Options) (*Inspection, error) {
	var v *winimage.Volume
	var err error
	if opts.Backend != nil {
		v, err = winimage.OpenBackend(opts.Backend)
	} else {
		v, err = winimage.Open(target)
	}
	if err != nil {
		return nil, err
	}
	defer v.Close()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in := &Inspection{Target: target, Installation: v.Installation, PassesDone: []string{}}
	in.ImageState, _ = v.String(setupStateKey, "ImageState")
	if s, err := readStateIni(v); err == nil {
		in.StateIni = s
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if n, ok := v.Integer(sysprepStatusKey, "GeneralizationState"); ok {
		in.GeneralizationState = &n
	}
	if n, ok := v.Integer(childCompletionKey, "setup.exe"); ok {
		in.SetupCompleted = &n
	}
	nb := &in.NextBoot
	nb.SetupType, _ = v.Integer(systemSetupKey, "SetupType")
	nb.CmdLine, _ = v.String(systemSetupKey, "CmdLine")
	nb.SystemSetupInProgress, _ = v.Integer(systemSetupKey, "SystemSetupInProgress")
	nb.OOBEInProgress, _ = v.Integer(systemSetupKey, "OOBEInProgress")
	nb.AuditInProgress, _ = v.Integer(systemSetupKey, "AuditInProgress")
	nb.Runs = nextBootRuns(*nb, in.SetupCompleted)
	if k, err := v.OpenKey(unattendPassesKey); err == nil {
		if vals, err := k.Values(); err == nil {
			for _, val := range vals {
				in.PassesDone = append(in.PassesDone, val.Name)
			}
		}
	}
	in.AnswerFile = readCachedAnswer(v)
	in.GeneralizeCount, _ = v.Integer(resealKey, "GeneralizeCount")
	in.checks = in.stateChecks()
	in.State, in.Verdict = in.judge()
	return in, nil
}

func nextBootRuns(nb NextBoot, setupDone *uint64) string {
	windeploy := strings.Contains(strings.ToLower(nb.CmdLine), "windeploy")
	switch {
	case nb.SetupType == 0 && nb.SystemSetupInProgress == 0:
		return "Windows as installed (no setup pass)"
	case nb.SetupType == 2 && windeploy && setupDone == nil && nb.AuditInProgress == 1:
		return "specialize, then audit mode"
	case nb.SetupType == 2 && windeploy && setupDone == nil:
		return "specialize, then OOBE"
	case nb.SetupType == 2 && windeploy && nb.AuditInProgress == 1:
		return "audit mode (specialize has run)"
	case nb.SetupType == 2 && windeploy:
		return "OOBE (specialize has run)"
	case nb.CmdLine != "":
		return fmt.Sprintf("setup command %q (SetupType %d)", nb.CmdLine, nb.SetupType)
	}
	return fmt.Sprintf("SetupType %d with no command", nb.SetupType)
}

func readCachedAnswer(v *winimage.Volume) CachedAnswerFile {
	ca := CachedAnswerFile{Path: answerCachePath, Passes: []string{}, Processed: []string{}}
	data, err := v.ReadFile(answerCachePath, 16<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return ca
	}
	ca.Present = true
	if err != nil {
		ca.Error = err.Error()
		return ca
	}
	f, err := unattend.Parse(bytes.NewReader(data))
	if err != nil {
		ca.Error = err.Error()
		return ca
	}
	ca.Passes = append(ca.Passes, f.Passes()...)
	for _, s := range f.SettingsBlocks() {
		p, _ := s.Attr("", "pass")
		if done, _ := s.Attr("", "wasPassProcessed"); strings.EqualFold(done, "true") && !slices.Contains(ca.Processed, p) {
			ca.Processed = append(ca.Processed, p)
		}
	}
	f.RedactSecrets()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		ca.Error = err.Error()
		return ca
	}
	ca.Content = buf.String()
	return ca
}

func optString(p *uint64) string {
	if p == nil {
		return "absent"
	}
	return fmt.Sprint(*p)
}

// stateChecks lists, for each expectable state, the values it needs and
// whether the image has them: what Windows reads at its next boot
// (docs/fidelity.md).
func (in *Inspection) stateChecks() map[string][]stateCheck {
	str := func(what, got, want string) stateCheck {
		shown := got
		if shown == "" {
			shown = "absent"
		}
		return stateCheck{what: what, got: shown, want: want, ok: strings.EqualFold(got, want)}
	}
	num := func(what string, got uint64, want uint64) stateCheck {
		return stateCheck{what: what, got: fmt.Sprint(got), want: fmt.Sprint(want), ok: got == want}
	}
	opt := func(what string, got *uint64, want string, ok bool) stateCheck {
		return stateCheck{what: what, got: optString(got), want: want, ok: ok}
	}
	nb := in.NextBoot
	genState := func(want uint64) stateCheck {
		return opt("GeneralizationState", in.GeneralizationState, fmt.Sprint(want), in.GeneralizationState != nil && *in.GeneralizationState == want)
	}
	generalized := func(state string) []stateCheck {
		return []stateCheck{
			str("ImageState", in.ImageState, state),
			str("State.ini ImageState", in.StateIni, state),
			genState(generalizationStateGeneralized),
			opt(`ChildCompletion\setup.exe`, in.SetupCompleted, "absent", in.SetupCompleted == nil),
			num("SetupType", nb.SetupType, 2),
			str("CmdLine", nb.CmdLine, `oobe\windeploy.exe`),
			num("SystemSetupInProgress", nb.SystemSetupInProgress, 1),
		}
	}
	g := append(generalized(imageStateGeneralizeOOBE), num("OOBEInProgress", nb.OOBEInProgress, 1), num("AuditInProgress", nb.AuditInProgress, 0))
	a := append(generalized(imageStateGeneralizeAudit), num("AuditInProgress", nb.AuditInProgress, 1), num("OOBEInProgress", nb.OOBEInProgress, 0))
	c := []stateCheck{
		str("ImageState", in.ImageState, imageStateComplete),
		genState(7),
		num("SetupType", nb.SetupType, 0),
		num("SystemSetupInProgress", nb.SystemSetupInProgress, 0),
	}
	if in.StateIni != "" {
		c = append(c, str("State.ini ImageState", in.StateIni, imageStateComplete))
	}
	return map[string][]stateCheck{StateGeneralized: g, StateAudit: a, StateComplete: c}
}

func (in *Inspection) judge() (string, string) {
	for _, s := range ExpectableStates() {
		if len(in.Differences(s)) == 0 {
			switch s {
			case StateGeneralized:
				return s, "generalized: the next boot runs specialize, then OOBE"
			case StateAudit:
				return s, "generalized for audit mode: the next boot runs specialize, then audit mode"
			default:
				return s, "complete, not generalized: the next boot starts the installed Windows"
			}
		}
	}
	if strings.EqualFold(in.ImageState, imageStateUndeployable) || strings.EqualFold(in.StateIni, imageStateUndeployable) {
		return "undeployable", "undeployable: a failed Sysprep run left IMAGE_STATE_UNDEPLOYABLE"
	}
	// The nearest state, and what keeps the image from it.
	best := ""
	for _, s := range ExpectableStates() {
		if best == "" || len(in.Differences(s)) < len(in.Differences(best)) {
			best = s
		}
	}
	return "inconsistent", fmt.Sprintf("inconsistent: neither generalized nor complete; nearest %s, but %s", best, strings.Join(in.Differences(best), "; "))
}

// Differences lists what keeps the image from state (one of
// ExpectableStates), as "GeneralizationState is 7, want 4"; none when it is
// in that state.
func (in *Inspection) Differences(state string) []string {
	checks, ok := in.checks[state]
	if !ok {
		return []string{fmt.Sprintf("unknown state %q (want one of %s)", state, strings.Join(ExpectableStates(), ", "))}
	}
	var out []string
	for _, c := range checks {
		if !c.ok {
			out = append(out, fmt.Sprintf("%s is %s, want %s", c.what, c.got, c.want))
		}
	}
	return out
}
