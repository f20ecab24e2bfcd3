// Package winimage is an offline Windows volume: a directory that holds
// Windows\System32\config. It resolves paths the way Windows does (case
// insensitively, never leaving the volume), opens the registry hives
// read-only (recovering dirty ones from their logs in memory, never writing
// them), identifies the installation and maps registry paths such as
// HKLM\SYSTEM\CurrentControlSet to a hive and a key.
//
// A Volume only reads. Changing the volume is the job of the caller (the
// Sysprep engine stages and journals its changes).
package winimage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/reseal/reseal/hive"
)

// Hive names, as the files in Windows\System32\config are called.
const (
	HiveSystem   = "SYSTEM"
	HiveSoftware = "SOFTWARE"
	HiveSAM      = "SAM"
	HiveSecurity = "SECURITY"
	HiveDefault  = "DEFAULT"
)

// ConfigDir is where the machine hives live, relative to the volume root.
const ConfigDir = "Windows/System32/config"

// ErrNotWindows is returned by Open for a directory without a Windows
// installation.
var ErrNotWindows = errors.New("not an offline Windows volume")

// Volume is an offline Windows volume opened for reading.
type Volume struct {
	Root         string // the directory given to Open, made absolute
	Installation Installation

	realRoot string                // Root with symbolic links resolved, for escape checks
	hives    map[string]*hive.Hive // opened lazily, by upper-case name
}

// Open opens the offline Windows volume rooted at dir: it opens the SYSTEM
// and SOFTWARE hives and identifies the installation.
func Open(dir string) (*Volume, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open volume %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open volume: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open volume %s: not a directory: %w", abs, ErrNotWindows)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("open volume %s: %w", abs, err)
	}
	v := &Volume{Root: abs, realRoot: real, hives: map[string]*hive.Hive{}}
	if _, err := v.Resolve(ConfigDir + "/" + HiveSystem); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open volume %s: no %s/%s: %w", abs, ConfigDir, HiveSystem, ErrNotWindows)
		}
		return nil, fmt.Errorf("open volume %s: %w", abs, err)
	}
	inst, err := v.identify()
	if err != nil {
		v.Close()
		return nil, fmt.Errorf("open volume %s: %w", abs, err)
	}
	v.Installation = inst
	return v, nil
}

// Close releases the hives.
func (v *Volume) Close() error {
	var first error
	for name, h := range v.hives {
		if err := h.Close(); err != nil && first == nil {
			first = fmt.Errorf("close hive %s: %w", name, err)
		}
		delete(v.hives, name)
	}
	return first
}

// HivePath returns the host path of a machine hive (SYSTEM, SOFTWARE, SAM,
// SECURITY, DEFAULT); the error wraps fs.ErrNotExist when it is absent.
//
// A user's SID names that user's NTUSER.DAT, found through ProfileList.
func (v *Volume) HivePath(name string) (string, error) {
	if IsUserHive(name) {
		profiles, err := v.UserProfiles()
		if err != nil {
			return "", err
		}
		for _, p := range profiles {
			if strings.EqualFold(p.SID, name) && p.Hive != "" {
				return v.Resolve(p.Hive)
			}
		}
		return "", fmt.Errorf("no profile with a registry hive for %s: %w", name, fs.ErrNotExist)
	}
	return v.Resolve(ConfigDir + "/" + name)
}

// IsUserHive reports whether a hive name is a user's SID (HKU\<SID>)
// rather than a machine hive.
func IsUserHive(name string) bool {
	return strings.HasPrefix(strings.ToUpper(name), "S-1-")
}

// Hive returns a machine hive opened read-only, recovered from its logs in
// memory when it is dirty. Hives are opened once and kept until Close.
func (v *Volume) Hive(name string) (*hive.Hive, error) {
	name = strings.ToUpper(name)
	if h, ok := v.hives[name]; ok {
		return h, nil
	}
	p, err := v.HivePath(name)
	if err != nil {
		return nil, fmt.Errorf("hive %s: %w", name, err)
	}
	h, err := hive.Open(p, &hive.OpenOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("open hive %s: %w", p, err)
	}
	v.hives[name] = h
	return h, nil
}

// HaveHive reports whether a machine hive file exists.
func (v *Volume) HaveHive(name string) bool {
	_, err := v.HivePath(name)
	return err == nil
}
