// Package sample writes a realistic offline Windows volume: the registry
// hives (built with reseal's own hive writer), the Appx state repository,
// event logs, page file, setup logs, Sysprep's action files and the other
// files a generalize run cleans. Blockers plant what makes Sysprep refuse an
// image, one preflight finding each, so that the engine can be shown and
// tested against every refusal without a Windows machine.
//
// The layout and the blockers follow the engine contract; docs/sample.md
// says what the volume contains and what is simplified.
package sample

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options says which volume to write.
type Options struct {
	// Windows is "10" (the default when empty and no blocker needs a
	// server), "11" or "server2022".
	Windows string
	// Blockers names what to plant (see BlockerNames).
	Blockers []string
	// Seed fixes every generated identifier: the same seed and Now give a
	// byte-identical tree.
	Seed int64
	// Dirty leaves the SYSTEM hive as a machine switched off before the
	// registry flushed: the primary file holds the older state and its
	// sequence numbers disagree; SYSTEM.LOG1 holds the newest changes (a
	// renewed DHCP lease, a service installed last). Only a reader that
	// replays the log sees them.
	Dirty bool
	// Now is the moment the volume was "last shut down"; install dates and
	// DHCP leases are placed before it. Zero means 2025-03-14 09:26:53 UTC,
	// so that a seed alone fixes the output.
	Now time.Time
}

// defaultNow is the time used when Options.Now is zero.
func defaultNow() time.Time { return time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC) }

// WindowsVersions lists the accepted values of Options.Windows.
func WindowsVersions() []string { return []string{"10", "11", "server2022"} }

// ErrNotEmpty is returned by Write when the target directory holds files.
var ErrNotEmpty = errors.New("directory is not empty")

// volume is the whole content before it is written: hives as trees, files
// as bytes. Blockers edit it; write puts it on disk.
type volume struct {
	ed    edition
	id    identity
	rng   *rand.Rand
	now   time.Time
	hives map[string]*regTree // volume-relative path -> content
	files map[string][]byte   // volume-relative path (forward slashes) -> content
	dirs  []string            // directories that exist even when empty
	appx  *appxState
	// olderSystem, when set, is SYSTEM as the primary file holds it; the
	// difference to the current SYSTEM goes to SYSTEM.LOG1.
	olderSystem *regTree
}

// Write creates a sample volume in dir, which must be absent or empty.
func Write(dir string, opts Options) error {
	v, err := build(opts)
	if err != nil {
		return err
	}
	created, err := prepareDir(dir)
	if err != nil {
		return err
	}
	if err := v.write(dir); err != nil {
		// dir was empty or absent: leave it so again, not half-written.
		if created {
			os.RemoveAll(dir)
		} else if entries, rerr := os.ReadDir(dir); rerr == nil {
			for _, e := range entries {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
		return err
	}
	return nil
}

// build describes the volume in memory.
func build(opts Options) (*volume, error) {
	blockers, err := resolveBlockers(opts.Blockers)
	if err != nil {
		return nil, err
	}
	windows := opts.Windows
	if windows == "" {
		windows = "10"
		for _, b := range blockers {
			if b.NeedsServer {
				windows = "server2022"
			}
		}
	}
	ed, ok := editions[windows]
	if !ok {
		return nil, fmt.Errorf("unknown Windows version %q (valid: %s)", opts.Windows, strings.Join(WindowsVersions(), ", "))
	}
	for _, b := range blockers {
		if b.NeedsServer && !ed.server() {
			return nil, fmt.Errorf("blocker %q needs a server installation (--windows server2022), not Windows %s", b.Name, windows)
		}
	}
	now := opts.Now
	if now.IsZero() {
		now = defaultNow()
	}
	now = now.UTC()
	v := &volume{
		ed:    ed,
		rng:   rand.New(rand.NewPCG(uint64(opts.Seed), 0x72657365616c)), // "reseal"
		now:   now,
		hives: map[string]*regTree{},
		files: map[string][]byte{},
	}
	v.id = newIdentity(v.rng, ed.server(), now)
	v.buildAppx()
	v.buildSystem()
	v.buildSoftware()
	v.buildSAM()
	v.buildSecurity()
	v.buildUserHives()
	v.buildAppx()
	v.buildFiles()
	v.buildActionFiles()
	for _, b := range blockers {
		b.plantFn(v)
	}
	v.buildAppxManifests()
	if opts.Dirty {
		v.olderSystem = v.unflushedSystem()
	}
	return v, nil
}

// Hive paths, relative to the volume root.
const (
	systemHive   = "Windows/System32/config/SYSTEM"
	softwareHive = "Windows/System32/config/SOFTWARE"
	samHive      = "Windows/System32/config/SAM"
	securityHive = "Windows/System32/config/SECURITY"
	defaultHive  = "Windows/System32/config/DEFAULT"
)

func (v *volume) hive(path string) *regTree {
	t, ok := v.hives[path]
	if !ok {
		t = newRegTree()
		v.hives[path] = t
	}
	return t
}

func (v *volume) system() *regTree   { return v.hive(systemHive) }
func (v *volume) software() *regTree { return v.hive(softwareHive) }

func (v *volume) file(path string, data []byte) { v.files[path] = data }
func (v *volume) text(path, s string)           { v.files[path] = []byte(s) }
func (v *volume) dir(path string)               { v.dirs = append(v.dirs, path) }

// prepareDir makes sure dir exists and is empty; created says whether it
// had to be made.
func prepareDir(dir string) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("create %s: %w", dir, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read %s: %w", dir, err)
	case len(entries) > 0:
		return false, fmt.Errorf("%s: %w", dir, ErrNotEmpty)
	}
	return false, nil
}

// write puts the volume on disk below dir, in a fixed order.
func (v *volume) write(dir string) error {
	for _, d := range slices.Sorted(slices.Values(v.dirs)) {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	for _, p := range sortedKeys(v.files) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("create directory for %s: %w", p, err)
		}
		if err := os.WriteFile(full, v.files[p], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	for _, p := range sortedKeys(v.hives) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("create directory for %s: %w", p, err)
		}
		write := writeHive
		if p == systemHive && v.olderSystem != nil {
			write = func(t *regTree, path string, now time.Time) error {
				return writeDirtyHive(v.olderSystem, t, path, now)
			}
		}
		if err := write(v.hives[p], full, v.now); err != nil {
			return fmt.Errorf("write hive %s: %w", p, err)
		}
	}
	if err := v.appx.write(dir); err != nil {
		return err
	}
	return stampTimes(dir, v.now)
}

// stampTimes gives every file and directory the volume's shutdown time, so
// that the tree (and a WIM captured from it) is the same for a seed.
func stampTimes(dir string, t time.Time) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk %s: %w", dir, err)
	}
	// Children first: touching a child changes nothing of its parent's
	// times on the systems we support, but stay safe.
	slices.Reverse(paths)
	for _, p := range paths {
		if err := os.Chtimes(p, t, t); err != nil {
			return fmt.Errorf("set times of %s: %w", p, err)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
