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
	"path"
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

// Volume is an offline Windows installation opened for reading, over a
// Backend (a directory, an image inside a WIM, ...).
type Volume struct {
	// Root is the host directory of a volume in a directory, absolute; ""
	// for other backends (which have no host paths).
	Root         string
	Installation Installation

	backend Backend
	hives   map[string]*hive.Hive // opened lazily, by upper-case name
}

// Open opens the offline Windows volume rooted at the directory dir: it
// opens the SYSTEM and SOFTWARE hives and identifies the installation.
func Open(dir string) (*Volume, error) {
	b, err := NewDirBackend(dir)
	if err != nil {
		return nil, err
	}
	return OpenBackend(b)
}

// OpenBackend opens the installation a backend holds. Closing the volume
// leaves the backend open: its opener closes it.
func OpenBackend(b Backend) (*Volume, error) {
	v := &Volume{backend: b, hives: map[string]*hive.Hive{}}
	if d, ok := b.(*DirBackend); ok {
		v.Root = d.Root()
	}
	if _, err := v.Lookup(ConfigDir + "/" + HiveSystem); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open volume %s: no %s/%s: %w", b, ConfigDir, HiveSystem, ErrNotWindows)
		}
		return nil, fmt.Errorf("open volume %s: %w", b, err)
	}
	inst, err := v.identify()
	if err != nil {
		v.Close()
		return nil, fmt.Errorf("open volume %s: %w", b, err)
	}
	v.Installation = inst
	return v, nil
}

// Backend is where the installation lives.
func (v *Volume) Backend() Backend { return v.backend }

// Name names the installation: its directory, or IMAGE.wim:1.
func (v *Volume) Name() string { return v.backend.String() }

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

// HivePath returns the host path of a hive of a volume in a directory;
// see HiveName.
func (v *Volume) HivePath(name string) (string, error) {
	p, err := v.HiveName(name)
	if err != nil {
		return "", err
	}
	if v.Root == "" {
		return "", fmt.Errorf("%s: %w", v.backend, errNoHostPath)
	}
	return filepath.Join(v.Root, filepath.FromSlash(p)), nil
}

// HiveName returns the stored volume-relative path of a machine hive
// (SYSTEM, SOFTWARE, SAM, SECURITY, DEFAULT); the error wraps
// fs.ErrNotExist when it is absent.
//
// A user's SID names that user's NTUSER.DAT, found through ProfileList.
func (v *Volume) HiveName(name string) (string, error) {
	if IsUserHive(name) {
		profiles, err := v.UserProfiles()
		if err != nil {
			return "", err
		}
		for _, p := range profiles {
			if strings.EqualFold(p.SID, name) && p.Hive != "" {
				return v.Lookup(p.Hive)
			}
		}
		return "", fmt.Errorf("no profile with a registry hive for %s: %w", name, fs.ErrNotExist)
	}
	return v.Lookup(ConfigDir + "/" + name)
}

// HiveLogs returns the stored names of a hive's transaction logs beside it
// (.LOG1, .LOG2, .LOG in that order, any letter case).
func (v *Volume) HiveLogs(hiveName string) ([]string, error) {
	dir, base := path.Split(hiveName)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	entries, err := v.backend.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", v.shown(dir), err)
	}
	var out []string
	for _, suf := range hive.LogSuffixes() {
		for _, e := range entries {
			if !e.IsDir() && SameName(e.Name(), base+suf) {
				out = append(out, path.Join(dir, e.Name()))
				break
			}
		}
	}
	return out, nil
}

// LoadHive reads a hive of the volume through its backend, recovering a
// dirty one from its transaction logs in memory. Each call returns a new
// copy (opts.ReadOnly false: an editable one, for a change set).
func (v *Volume) LoadHive(name string, opts *hive.OpenOptions) (*hive.Hive, error) {
	p, err := v.HiveName(name)
	if err != nil {
		return nil, fmt.Errorf("hive %s: %w", name, err)
	}
	if v.Root != "" {
		// A directory: the hive package reads the file and its logs itself.
		h, err := hive.Open(filepath.Join(v.Root, filepath.FromSlash(p)), opts)
		if err != nil {
			return nil, fmt.Errorf("open hive %s: %w", v.shown(p), err)
		}
		return h, nil
	}
	return v.loadHiveAt(p, opts)
}

// OpenHiveFile opens a hive file of the installation b holds by its path
// (resolved case-insensitively, never out of the root), recovering a dirty
// one from its logs in memory: for reading a hive of an image without
// opening the installation.
func OpenHiveFile(b Backend, rel string, opts *hive.OpenOptions) (*hive.Hive, error) {
	v := &Volume{backend: b}
	if d, ok := b.(*DirBackend); ok {
		v.Root = d.Root()
	}
	p, err := v.Lookup(rel)
	if err != nil {
		return nil, err
	}
	if v.Root != "" {
		return hive.Open(filepath.Join(v.Root, filepath.FromSlash(p)), opts)
	}
	return v.loadHiveAt(p, opts)
}

// loadHiveAt reads the hive stored at p through the backend.
func (v *Volume) loadHiveAt(p string, opts *hive.OpenOptions) (*hive.Hive, error) {
	raw, err := v.readStored(p, hive.MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("open hive %s: %w", v.shown(p), err)
	}
	var logs []hive.LogData
	if opts == nil || !opts.NoLogs {
		names, err := v.HiveLogs(p)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			data, err := v.readStored(n, hive.MaxFileSize)
			if err != nil {
				return nil, fmt.Errorf("read transaction log %s: %w", v.shown(n), err)
			}
			logs = append(logs, hive.LogData{Name: n, Data: data})
		}
	}
	h, err := hive.LoadWithLogs(raw, logs, opts)
	if err != nil {
		return nil, fmt.Errorf("open hive %s: %w", v.shown(p), err)
	}
	return h, nil
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
	h, err := v.LoadHive(name, &hive.OpenOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	v.hives[name] = h
	return h, nil
}

// HaveHive reports whether a machine hive file exists.
func (v *Volume) HaveHive(name string) bool {
	_, err := v.HiveName(name)
	return err == nil
}
