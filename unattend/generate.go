package unattend

import (
	"fmt"
	"strings"
)

// GenerateOptions describe the Sysprep answer file Generate builds. Zero
// values leave a setting out.
type GenerateOptions struct {
	// Arch is the processorArchitecture of every component: x86, amd64
	// (the default) or arm64.
	Arch string
	// GeneralizeMode, "OOBE" or "Audit" (any case), adds
	// Microsoft-Windows-Deployment/Generalize to the auditUser pass: when
	// the image next runs auditUser, Windows generalizes it and then boots
	// to that mode.
	GeneralizeMode string
	// PersistAllDeviceInstalls keeps the installed drivers through
	// generalize (Microsoft-Windows-PnpSysprep, generalize pass).
	PersistAllDeviceInstalls bool
	// SkipRearm keeps the licensing state and activation grace period
	// (Microsoft-Windows-Security-SPP/SkipRearm=1, generalize pass).
	SkipRearm bool
	// ComputerName is set in the specialize pass; "*" asks for a random one.
	ComputerName string
	// TimeZone is a Windows time zone name ("UTC", "Pacific Standard
	// Time"), set in the specialize pass.
	TimeZone string
	// AdministratorPassword is stored hidden (PlainText=false) in the
	// oobeSystem pass.
	AdministratorPassword string
}

// Generate builds a Sysprep answer file from options. The result validates
// without findings.
func Generate(o GenerateOptions) (*File, error) {
	arch := o.Arch
	if arch == "" {
		arch = "amd64"
	}
	switch arch {
	case "x86", "amd64", "arm64":
	default:
		return nil, fmt.Errorf("unattend: architecture %q: want x86, amd64 or arm64", o.Arch)
	}
	mode := ""
	switch strings.ToLower(o.GeneralizeMode) {
	case "":
	case "oobe":
		mode = "OOBE"
	case "audit":
		mode = "Audit"
	default:
		return nil, fmt.Errorf("unattend: generalize mode %q: want OOBE or Audit", o.GeneralizeMode)
	}
	if err := CheckComputerName(o.ComputerName); err != nil {
		return nil, fmt.Errorf("unattend: computer name: %w", err)
	}
	if strings.ContainsAny(o.TimeZone, "\r\n") || strings.TrimSpace(o.TimeZone) != o.TimeZone {
		return nil, fmt.Errorf("unattend: time zone %q: unexpected white space", o.TimeZone)
	}
	if o.TimeZone != "" {
		if err := CheckTimeZone(o.TimeZone); err != nil {
			return nil, fmt.Errorf("unattend: time zone: %w", err)
		}
	}

	f := New()
	type setting struct{ pass, component, path, value string }
	var settings []setting
	if o.PersistAllDeviceInstalls {
		settings = append(settings, setting{"generalize", "Microsoft-Windows-PnpSysprep", "PersistAllDeviceInstalls", "true"})
	}
	if o.SkipRearm {
		settings = append(settings, setting{"generalize", "Microsoft-Windows-Security-SPP", "SkipRearm", "1"})
	}
	if o.ComputerName != "" {
		settings = append(settings, setting{"specialize", "Microsoft-Windows-Shell-Setup", "ComputerName", o.ComputerName})
	}
	if o.TimeZone != "" {
		settings = append(settings, setting{"specialize", "Microsoft-Windows-Shell-Setup", "TimeZone", o.TimeZone})
	}
	if mode != "" {
		settings = append(settings,
			setting{"auditUser", "Microsoft-Windows-Deployment", "Generalize/Mode", mode},
			setting{"auditUser", "Microsoft-Windows-Deployment", "Generalize/ForceShutdownNow", "false"})
	}
	if o.AdministratorPassword != "" {
		settings = append(settings,
			setting{"oobeSystem", "Microsoft-Windows-Shell-Setup", "UserAccounts/AdministratorPassword/Value", EncodePassword(o.AdministratorPassword, "AdministratorPassword")},
			setting{"oobeSystem", "Microsoft-Windows-Shell-Setup", "UserAccounts/AdministratorPassword/PlainText", "false"})
	}
	for _, s := range settings {
		if err := f.SetSetting(s.pass, arch, s.component, s.path, s.value); err != nil {
			return nil, err
		}
	}
	return f, nil
}
