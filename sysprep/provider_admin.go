package sysprep

import (
	"fmt"

	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/winimage"
)

// planAdministrator sets the built-in Administrator (RID 500) the way
// generalize leaves it on a client edition: disabled when the next boot
// runs OOBE (which creates the first user account), enabled when it enters
// audit mode, which logs on as the built-in Administrator. A server
// edition keeps the account as it is: Windows Server's built-in
// Administrator is enabled by default and its OOBE asks for that account's
// password instead of creating a user (docs/fidelity.md).
func planAdministrator(v *winimage.Volume, o *Options) ([]Action, error) {
	if v.Installation.Server() {
		return nil, nil
	}
	ref := winimage.BuiltinAdministratorKey
	val, ok := v.Value(ref, "F")
	if !ok {
		return nil, nil
	}
	flags, err := winimage.AccountFlags(val.Data)
	if err != nil {
		return nil, fmt.Errorf("%s\\F: %w", ref, err)
	}
	want := flags | winimage.AccountDisabled
	state := "disabled (OOBE creates the first account)"
	if o.Mode == ModeAudit {
		want = flags &^ winimage.AccountDisabled
		state = "enabled (audit mode logs on as the built-in Administrator)"
	}
	if want == flags {
		return nil, nil
	}
	data, err := winimage.WithAccountFlags(val.Data, want)
	if err != nil {
		return nil, fmt.Errorf("%s\\F: %w", ref, err)
	}
	return []Action{setValue(ref, "F", hive.TypeBinary, data,
		fmt.Sprintf("account control 0x%04x -> 0x%04x: built-in Administrator %s", flags, want, state))}, nil
}
