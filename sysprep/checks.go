package sysprep

import (
	"github.com/reseal/reseal/winimage"
)

// check is one preflight check: it reads the volume and returns findings.
// A check that cannot read what it needs reports that as a finding too.
type check struct {
	name string
	run  func(*winimage.Volume, *Options) []Finding
}

// checks is every preflight check, in the order they are reported. All run.
var checks = []check{
	{"hives", checkHives},
	{"image-state", checkImageState},
	{"run-limit", checkRunLimit},
	{"upgrade", checkUpgrade},
	{"pending", checkPending},
	{"appx", checkAppx},
	{"server-roles", checkServerRoles},
	{"nps", checkNPS},
	{"hibernation", checkHibernated},
	{"answer-file", checkAnswerFile},
	{"stale-answer-files", checkStaleAnswerFiles},
	{"domain", checkDomain},
	{"efs", checkEFS},
	{"action-files", checkActionFiles},
}

func runChecks(v *winimage.Volume, o *Options) []Finding {
	var out []Finding
	for _, c := range checks {
		o.progress("check " + c.name)
		out = append(out, c.run(v, o)...)
	}
	return out
}

// unreadable turns a failure to read what a check needs into an error
// finding: what cannot be checked is not assumed to be fine.
func unreadable(id, where string, err error) Finding {
	return Finding{
		ID: id + "-unreadable", Severity: SeverityError, Where: where,
		Message: "cannot be checked: " + err.Error(),
		Fix:     "repair or remove the damaged file, then run preflight again",
	}
}
