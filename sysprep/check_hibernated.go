package sysprep

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/reseal/reseal/winimage"
)

// checkHibernated refuses a volume that holds a hibernation image: Windows
// would resume the old session (fast startup's hybrid shutdown writes one
// too) and the offline changes would be lost or corrupt the volume.
func checkHibernated(v *winimage.Volume, o *Options) []Finding {
	head, err := v.FileHeader("hiberfil.sys", 4)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return []Finding{unreadable("hibernated", "hiberfil.sys", err)}
	}
	if !strings.EqualFold(string(head), "HIBR") {
		return nil
	}
	msg := "the volume holds a hibernation image (hiberfil.sys starts with HIBR)"
	if n, ok := v.Integer(ccs(v, `Control\Session Manager\Power`), "HiberbootEnabled"); ok && n == 1 {
		msg += "; fast startup is on, so a normal shutdown hibernated the kernel session"
	}
	return []Finding{{ID: "hibernated", Severity: SeverityError, Where: "hiberfil.sys",
		Message: msg + ". Changing a hibernated volume offline corrupts it",
		Fix:     "boot the image and shut it down fully (shutdown /s /t 0, or disable fast startup: powercfg /h off), then generalize"}}
}
