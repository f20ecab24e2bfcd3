package sysprep

import (
	"fmt"

	"github.com/reseal/reseal/winimage"
)

// checkRunLimit refuses an image generalized the 1001 times Sysprep allows.
// Where Windows keeps its own count is not documented; reseal counts its
// runs in SOFTWARE\reseal GeneralizeCount (docs/generalize.md).
func checkRunLimit(v *winimage.Volume, o *Options) []Finding {
	n, ok := v.Integer(resealKey, "GeneralizeCount")
	if !ok {
		return nil
	}
	where := resealKey.String() + `\GeneralizeCount`
	if n >= maxGeneralizeRuns {
		return []Finding{{ID: "run-limit", Severity: SeverityError, Where: where,
			Message: fmt.Sprintf("this image has been generalized %d times; Sysprep allows %d runs per image", n, maxGeneralizeRuns),
			Fix:     "recreate the image from installation media"}}
	}
	if n >= maxGeneralizeRuns-10 {
		return []Finding{{ID: "run-limit-near", Severity: SeverityWarning, Where: where,
			Message: fmt.Sprintf("this image has been generalized %d times; %d runs remain", n, maxGeneralizeRuns-n)}}
	}
	return nil
}
