package sysprep

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/reseal/reseal/winimage"
)

// Sysprep's own logs of the generalize run.
const (
	setupactPath = "Windows/System32/Sysprep/Panther/setupact.log"
	setuperrPath = "Windows/System32/Sysprep/Panther/setuperr.log"
)

// runBanner opens every run in setupact.log, as Sysprep's does.
const runBanner = "=== Beginning of a new sysprep run ==="

// planPantherLogs appends this run to setupact.log (everything) and
// setuperr.log (errors only; created empty when missing, as Sysprep does).
// The lines are rendered at commit time because they record the run itself.
func planPantherLogs(v *winimage.Volume, o *Options) ([]Action, error) {
	acts := []Action{{Kind: KindWriteFile, Target: winPath(setupactPath), Detail: "append this run in Sysprep's log format",
		op: operation{path: setupactPath, log: "setupact"}}}
	if !v.Exists(setuperrPath) {
		acts = append(acts, Action{Kind: KindWriteFile, Target: winPath(setuperrPath), Detail: "create (no errors in this run)",
			op: operation{path: setuperrPath, log: "setuperr"}})
	}
	return acts, nil
}

// logLine renders one line the way Sysprep writes them:
// "2024-05-01 10:11:12, Info                  SYSPRP Function: message".
func logLine(t time.Time, level, id, msg string) string {
	msg = strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
	return fmt.Sprintf("%s, %-11s%-10s SYSPRP %s\r\n", t.Format("2006-01-02 15:04:05"), level, id, msg)
}

func severityLevel(s Severity) string {
	switch s {
	case SeverityError:
		return "Error"
	case SeverityWarning:
		return "Warning"
	}
	return "Info"
}

// renderRunLog renders this run's lines for setupact.log (all) or
// setuperr.log (errors only).
func renderRunLog(o *Options, r *Report, errorsOnly bool) []byte {
	t := o.now()
	var b bytes.Buffer
	add := func(level, msg string) {
		if errorsOnly && level != "Error" {
			return
		}
		b.WriteString(logLine(t, level, "", msg))
	}
	add("Info", "========================================================")
	add("Info", runBanner)
	add("Info", "========================================================")
	add("Info", fmt.Sprintf("reseal::Generalize: offline generalize of %s; next boot: specialize, then %s%s",
		r.Installation, o.Mode, map[bool]string{true: "; mode vm (device installs kept)", false: ""}[o.VM]))
	if o.UnattendPath != "" {
		add("Info", "reseal::Generalize: answer file "+o.UnattendPath)
	}
	if r.Journal != "" {
		add("Info", "reseal::RecoverJournal: "+r.Journal)
	}
	for _, f := range r.Findings {
		msg := fmt.Sprintf("Preflight::%s: %s", f.ID, f.Message)
		if f.Where != "" {
			msg += " [" + f.Where + "]"
		}
		add(severityLevel(f.Severity), msg)
	}
	for _, m := range o.run.mapped {
		add("Info", "ActionFiles: "+m)
	}
	for _, n := range r.NotRunOffline {
		add("Warning", "ActionFiles::NotRunOffline: "+n)
	}
	for _, a := range r.Actions {
		if a.op.log != "" {
			continue
		}
		add("Info", fmt.Sprintf("%s::%s: %s %s", a.Provider, a.Kind, a.Target, a.Detail))
	}
	add("Info", fmt.Sprintf("reseal::Generalize: %d actions carried out; Sysprep_succeeded.tag written", len(r.Actions)))
	return b.Bytes()
}
