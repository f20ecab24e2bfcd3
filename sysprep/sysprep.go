// Package sysprep generalizes an offline Windows volume the way Sysprep
// does, without booting it: inspect (winimage), preflight (every check runs,
// findings are data), plan (providers return Actions and touch nothing),
// commit (staged, journaled, atomic renames) and report (text, JSON and
// Sysprep's own Panther logs).
//
// A volume either stays byte-for-byte unchanged or ends fully generalized:
// an interrupted commit is finished or rolled back by RecoverJournal, which
// Preflight and Generalize call before anything else.
package sysprep

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/reseal/reseal/unattend"
	"github.com/reseal/reseal/winimage"
)

// Mode is what the next boot enters after generalize.
type Mode int

const (
	ModeOOBE  Mode = iota // specialize, then oobeSystem and the out-of-box experience
	ModeAudit             // specialize, then auditSystem, auditUser and the desktop
)

func (m Mode) String() string {
	if m == ModeAudit {
		return "audit"
	}
	return "oobe"
}

// Options controls a run.
type Options struct {
	Mode         Mode
	VM           bool   // --mode vm: keep device installs
	UnattendPath string // --unattend FILE ("" = none)
	// User names the account whose NTUSER.DAT stands for
	// HKEY_CURRENT_USER in action files (a SID or a profile folder name);
	// "" is the built-in Administrator, whom Sysprep runs as in audit mode.
	User     string
	DryRun   bool
	Now      func() time.Time  // nil = time.Now
	Progress func(step string) // nil = silent
	// Backend, when set, is the installation to work on instead of the
	// directory target (which then only names it in the report): an image
	// inside a WIM, a disk image. Generalize commits to it through its
	// winimage.Committer; there is no lock and no journal to recover, the
	// backend's commit being all or nothing itself.
	Backend winimage.Backend

	// crashAt, when positive, stops the commit abruptly at that durable
	// step, as a kill would (tests only).
	crashAt int
	// accept downgrades these finding IDs to warnings (tests only: the
	// corpus test acknowledges what a reboot would clear).
	accept map[string]bool
	run    *runState
}

// runState is what one run shares between checks and providers.
type runState struct {
	ctx      context.Context
	answer   *unattend.File // parsed --unattend file, nil if none or unreadable
	answerFs []unattend.Finding
	answerEr error
	settings generalizeSettings
	notRun   []string
	mapped   []string // modules covered by a reseal equivalent, for the logs
	// actionFiles is what the image's action files ask for, worked out
	// once for preflight and plan.
	actionFiles *actionFileResult
}

// generalizeSettings are the answer file's generalize-pass settings that
// change what the providers do.
type generalizeSettings struct {
	PersistAllDeviceInstalls      bool
	DoNotCleanUpNonPresentDevices bool
	SkipRearm                     bool
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) progress(step string) {
	if o.Progress != nil {
		o.Progress(step)
	}
}

func (o *Options) ctx() context.Context {
	if o.run == nil || o.run.ctx == nil {
		return context.Background()
	}
	return o.run.ctx
}

// Severity of a finding.
type Severity int

const (
	SeverityInfo Severity = iota
	SeverityWarning
	SeverityError
)

func (s Severity) String() string {
	switch s {
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return "info"
}

// MarshalText renders the severity as its name in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name back.
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "info":
		*s = SeverityInfo
	case "warning":
		*s = SeverityWarning
	case "error":
		*s = SeverityError
	default:
		return fmt.Errorf("unknown severity %q", b)
	}
	return nil
}

// Finding is one result of a preflight check.
type Finding struct {
	ID       string   `json:"id"`       // stable identifier: "appx-not-provisioned", "pending-servicing", ...
	Severity Severity `json:"severity"` // "error", "warning" or "info" in JSON
	Message  string   `json:"message"`  // what is wrong, in Sysprep's words where Sysprep has some
	Where    string   `json:"where"`    // the file or registry key it was found in ("" if none)
	Code     string   `json:"code"`     // Sysprep's error code, e.g. "0x80073cf2" ("" if none)
	Fix      string   `json:"fix"`      // what to do about it ("" if nothing to say)
}

// Action is one change of the plan: data, decided by a provider. Detail
// says the change in one line for people (the text plan, the Panther log);
// the other fields say it for programs (--json).
type Action struct {
	Provider string `json:"provider"` // "image-state", "identity", ...
	Kind     string `json:"kind"`     // "set-value", "delete-value", "delete-key", "delete-file", "delete-dir", "write-file"
	Target   string `json:"target"`   // HKLM\SYSTEM\ControlSet001\... or a volume path (Windows\Temp\x)
	Value    string `json:"value"`    // the value's name for set-value and delete-value ("(Default)" for the default value), else ""
	Type     string `json:"type"`     // set-value: the value's type (REG_SZ, REG_DWORD, ...), else ""
	Data     string `json:"data"`     // set-value: the data as people read it ("1", "\"text\""), else ""
	Reason   string `json:"reason"`   // why the change is made ("" when the kind says it all)
	Source   string `json:"source"`   // the image's Sysprep action file that asked for it, else ""
	Detail   string `json:"-"`        // the above in one line: value name and data, size, reason

	op operation
}

// Report is what a run found and did. In JSON every list is [] when empty
// (see JSONReady).
type Report struct {
	Target        string                `json:"target"`
	Installation  winimage.Installation `json:"installation"`
	Journal       string                `json:"journal"`         // what the journal recovery at start did ("" if nothing)
	Lock          string                `json:"lock"`            // "" when the run held the volume's lock; else why it had none
	Findings      []Finding             `json:"findings"`        //
	Actions       []Action              `json:"actions"`         // the plan; with DryRun nothing was done
	NotRunOffline []string              `json:"not_run_offline"` // sysprepModules reported as not run
}

// JSONReady returns the report with its nil lists made empty, so that JSON
// shows them as [] rather than null.
func (r *Report) JSONReady() *Report {
	c := *r
	if c.Findings == nil {
		c.Findings = []Finding{}
	}
	if c.Actions == nil {
		c.Actions = []Action{}
	}
	if c.NotRunOffline == nil {
		c.NotRunOffline = []string{}
	}
	return &c
}

// HasErrors reports whether any finding is an error.
func (r *Report) HasErrors() bool {
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// ErrRefused is wrapped by Generalize when preflight found errors; nothing
// was changed.
var ErrRefused = errors.New("preflight found errors; nothing was changed")

// Preflight runs every check on the volume at target and changes nothing
// (apart from finishing or rolling back an interrupted commit first).
func Preflight(ctx context.Context, target string, opts Options) (_ *Report, err error) {
	if opts.Backend != nil {
		r, v, err := begin(ctx, target, &opts, "")
		if err != nil {
			return r, err
		}
		defer v.Close()
		r.Findings = runChecks(v, &opts)
		return r, nil
	}
	lock, lockNote, err := lockForReading(target)
	if err != nil {
		return &Report{Target: target}, err
	}
	defer func() { err = errors.Join(err, lock.release()) }()
	r, v, err := begin(ctx, target, &opts, lockNote)
	if err != nil {
		return r, err
	}
	defer v.Close()
	r.Findings = runChecks(v, &opts)
	return r, nil
}

// Generalize runs preflight, and when it finds no error, plans and commits
// the generalization of the volume at target. With opts.DryRun it stops
// after planning.
func Generalize(ctx context.Context, target string, opts Options) (_ *Report, err error) {
	var committer winimage.Committer
	var lockNote string
	if opts.Backend != nil {
		c, ok := opts.Backend.(winimage.Committer)
		if !ok && !opts.DryRun {
			return &Report{Target: target}, fmt.Errorf("%s: this backend cannot be changed", opts.Backend)
		}
		committer = c
	} else {
		var lock *volumeLock
		if opts.DryRun {
			lock, lockNote, err = lockForReading(target)
		} else {
			lock, err = lockVolume(target)
		}
		if err != nil {
			return &Report{Target: target}, err
		}
		defer func() { err = errors.Join(err, lock.release()) }()
	}
	r, v, err := begin(ctx, target, &opts, lockNote)
	if err != nil {
		return r, err
	}
	defer v.Close()
	r.Findings = runChecks(v, &opts)
	for i, f := range r.Findings {
		if opts.accept[f.ID] && f.Severity == SeverityError {
			r.Findings[i].Severity = SeverityWarning
			r.Findings[i].Message += " (accepted by the caller)"
		}
	}
	if r.HasErrors() {
		return r, fmt.Errorf("%s: %w", target, ErrRefused)
	}
	plan, notRun, err := makePlan(v, &opts)
	if err != nil {
		return r, err
	}
	r.Actions, r.NotRunOffline = plan, notRun
	if opts.DryRun {
		return r, nil
	}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	opts.progress("commit")
	if committer != nil {
		return r, commitBackend(ctx, v, committer, &opts, r)
	}
	if err := commit(v, &opts, r); err != nil {
		return r, err
	}
	return r, nil
}

// begin recovers an interrupted commit (or, with lockNote set, the run
// holds no lock and only checks that there is none to recover), opens the
// volume and loads its answer file.
func begin(ctx context.Context, target string, opts *Options, lockNote string) (*Report, *winimage.Volume, error) {
	r := &Report{Target: target, Lock: lockNote}
	var v *winimage.Volume
	var err error
	if opts.Backend != nil {
		opts.progress("inspect")
		if v, err = winimage.OpenBackend(opts.Backend); err != nil {
			return r, nil, err
		}
	} else {
		opts.progress("journal")
		var msg string
		if lockNote != "" {
			err = journalAbsent(target)
		} else {
			msg, err = recoverJournal(target, nil)
		}
		r.Journal = msg
		if err != nil {
			return r, nil, err
		}
		opts.progress("inspect")
		if v, err = winimage.Open(target); err != nil {
			return r, nil, err
		}
	}
	r.Installation = v.Installation
	opts.run = &runState{ctx: ctx}
	if err := loadAnswerFile(v, opts); err != nil {
		v.Close()
		return r, nil, err
	}
	return r, v, nil
}
