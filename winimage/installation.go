package winimage

import (
	"fmt"
	"strconv"
	"strings"
)

// Installation identifies the Windows installation of a volume, from its
// hives.
type Installation struct {
	ProductName       string `json:"product_name"`        // "Windows 10 Pro"
	EditionID         string `json:"edition_id"`          // "Professional", "ServerStandard"
	DisplayVersion    string `json:"display_version"`     // "22H2"
	Build             int    `json:"build"`               // CurrentBuild: 19045
	UBR               int    `json:"ubr"`                 // update build revision
	InstallationType  string `json:"installation_type"`   // "Client" or "Server"
	Architecture      string `json:"architecture"`        // "amd64", "x86", "arm64"
	CurrentControlSet int    `json:"current_control_set"` // from SYSTEM\Select\Current
}

// Server reports whether the installation is a Windows Server.
func (i Installation) Server() bool { return strings.EqualFold(i.InstallationType, "Server") }

// String is one line for people: "Windows 10 Pro 22H2 (build 19045.3803, amd64, Client)".
func (i Installation) String() string {
	s := i.ProductName
	if s == "" {
		s = "Windows (product unknown)"
	}
	if i.DisplayVersion != "" {
		s += " " + i.DisplayVersion
	}
	return fmt.Sprintf("%s (build %d.%d, %s, %s)", s, i.Build, i.UBR, orUnknown(i.Architecture), orUnknown(i.InstallationType))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// CurrentVersionKey is where SOFTWARE describes the installation.
var CurrentVersionKey = KeyRef{Hive: HiveSoftware, Path: `Microsoft\Windows NT\CurrentVersion`}

func (v *Volume) identify() (Installation, error) {
	var inst Installation
	sel := KeyRef{Hive: HiveSystem, Path: "Select"}
	if _, err := v.Hive(HiveSystem); err != nil {
		return inst, err
	}
	cur, ok := v.Integer(sel, "Current")
	if !ok || cur == 0 || cur > 999 {
		// Select\Current missing: fall back to the first control set present.
		for n := 1; n <= 9; n++ {
			if v.KeyExists(KeyRef{Hive: HiveSystem, Path: ControlSetName(n)}) {
				cur = uint64(n)
				break
			}
		}
		if cur == 0 {
			return inst, fmt.Errorf("SYSTEM hive: no Select\\Current and no ControlSet00N key")
		}
	}
	inst.CurrentControlSet = int(cur)
	env := KeyRef{Hive: HiveSystem, Path: ControlSetName(int(cur)) + `\Control\Session Manager\Environment`}
	if arch, ok := v.String(env, "PROCESSOR_ARCHITECTURE"); ok {
		inst.Architecture = normalizeArch(arch)
	}
	if !v.HaveHive(HiveSoftware) {
		return inst, fmt.Errorf("no %s/%s: %w", ConfigDir, HiveSoftware, ErrNotWindows)
	}
	if _, err := v.Hive(HiveSoftware); err != nil {
		return inst, err
	}
	cv := CurrentVersionKey
	inst.ProductName, _ = v.String(cv, "ProductName")
	inst.EditionID, _ = v.String(cv, "EditionID")
	inst.DisplayVersion, _ = v.String(cv, "DisplayVersion")
	if inst.DisplayVersion == "" {
		inst.DisplayVersion, _ = v.String(cv, "ReleaseId")
	}
	inst.InstallationType, _ = v.String(cv, "InstallationType")
	for _, name := range []string{"CurrentBuild", "CurrentBuildNumber"} {
		if s, ok := v.String(cv, name); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				inst.Build = n
				break
			}
		}
	}
	if ubr, ok := v.Integer(cv, "UBR"); ok && ubr < 1<<31 {
		inst.UBR = int(ubr)
	}
	if inst.InstallationType == "" && strings.HasPrefix(inst.EditionID, "Server") {
		inst.InstallationType = "Server"
	}
	// Windows 11 keeps "Windows 10" in ProductName; the build tells.
	if inst.Build >= 22000 && inst.InstallationType == "Client" && strings.HasPrefix(inst.ProductName, "Windows 10") {
		inst.ProductName = "Windows 11" + strings.TrimPrefix(inst.ProductName, "Windows 10")
	}
	return inst, nil
}

func normalizeArch(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "AMD64", "X64":
		return "amd64"
	case "X86":
		return "x86"
	case "ARM64":
		return "arm64"
	case "ARM":
		return "arm"
	case "IA64":
		return "ia64"
	}
	return strings.ToLower(s)
}
