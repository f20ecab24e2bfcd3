package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/reseal/reseal/disk/diskvol"
	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/sysprep"
	"github.com/reseal/reseal/wim"
	"github.com/reseal/reseal/winimage"
)

// captureDisk captures the Windows volume inside a disk image (raw, VHD,
// VHDX, qcow2; DISK or DISK:PART) without mounting it: the NTFS volume is
// read directly, with the metadata a mount loses. A volume that is not
// clean (dirty flag, unapplied $LogFile: an unclean shutdown, hibernation,
// fast startup) or BitLocker-encrypted is refused before anything is
// written.
func captureDisk(ctx context.Context, sio *stdio, src, dest string, opts wim.CaptureOptions, quiet, setName, setFlags bool) error {
	path, part := diskvol.ParseTarget(src)
	rm := newProgress(sio, quiet, "Reading MFT")
	v, err := diskvol.Open(ctx, path, part, rm.callback())
	rm.finish()
	if err != nil {
		return err
	}
	defer v.Close()
	if err := v.CheckClean(); err != nil {
		return err
	}
	// A Windows installation gets what DISM records of it (<WINDOWS>, the
	// edition as name and flags), as a capture of a directory does.
	if wv, err := winimage.OpenBackend(winimage.NewDiskBackend(v)); err == nil {
		describeWindows(&opts, wv.Installation, setName, setFlags)
		if opts.DisplayDescription == "" && opts.Description == "" && opts.DisplayName != "" {
			opts.DisplayDescription = opts.DisplayName
		}
		wv.Close()
	}
	root, err := v.WIMSource()
	if err != nil {
		return err
	}
	if opts.Name == "" {
		opts.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	sizeBefore := int64(0)
	if opts.Append {
		if st, err := os.Stat(dest); err == nil {
			sizeBefore = st.Size()
		}
	}
	pm := newProgress(sio, quiet, "Capturing")
	opts.Progress = pm.callback()
	err = wim.CaptureSource(ctx, root, dest, opts)
	pm.finish()
	if err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintln(sio.Err, captureSummary(v.String(), dest, sizeBefore, pm.elapsed()))
	}
	return nil
}

// isDiskTarget tells a disk image argument (DISK or DISK:PART) from a
// directory or a WIM.
func isDiskTarget(arg string) bool {
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		return false
	}
	return diskvol.IsDiskImage(arg)
}

// preflightDisk runs preflight on the Windows volume of a disk image,
// read-only. An NTFS volume that is not clean is an error finding of its
// own: what it holds may not be what Windows would see.
func preflightDisk(ctx context.Context, target string, opts sysprep.Options) (*sysprep.Report, error) {
	b, err := winimage.OpenDisk(ctx, target, nil)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	opts.Backend = b
	r, err := sysprep.Preflight(ctx, target, opts)
	if r != nil {
		if d := b.Dirty(); len(d) > 0 {
			f := sysprep.Finding{ID: "ntfs-not-clean", Severity: sysprep.SeverityError, Where: b.String(),
				Message: "the NTFS volume is not clean: " + strings.Join(d, "; "),
				Fix:     "boot Windows and shut it down fully (shutdown /s /t 0, fast startup off), or run chkdsk"}
			r.Findings = append([]sysprep.Finding{f}, r.Findings...)
		}
	}
	return r, err
}

// diskHiveSep joins a disk image and a hive path inside it into the one
// name the reg commands carry and show: disk.qcow2::Windows/System32/config/SYSTEM.
const diskHiveSep = "::"

// diskHiveArgs takes DISK[:PART] HIVEPATH [KEY].
func diskHiveArgs(pos []string) (path, key string, err error) {
	if len(pos) == 3 {
		key = pos[2]
	}
	return pos[0] + diskHiveSep + strings.TrimLeft(strings.ReplaceAll(pos[1], `\`, "/"), "/"), key, nil
}

func splitDiskHive(path string) (disk, name string, ok bool) {
	disk, name, ok = strings.Cut(path, diskHiveSep)
	if !ok || !isDiskTarget(disk) {
		return "", "", false
	}
	return disk, name, true
}

// openDiskHive reads a hive and its transaction logs out of a disk
// image's Windows volume (names matched as Windows does) and opens it in
// memory, recovered from its logs when dirty. A disk image is only read.
func openDiskHive(disk, name string, readOnly bool) (*hive.Hive, error) {
	shown := disk + diskHiveSep + name
	if !readOnly {
		return nil, refusedError("%s: a hive inside a disk image is only read; nothing was changed", shown)
	}
	b, err := winimage.OpenDisk(context.Background(), disk, nil)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	v, err := winimage.OpenBackend(b)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	// Lookup's and ReadFile's errors name DISK:PART and the path already.
	stored, err := v.Lookup(name)
	if err != nil {
		return nil, err
	}
	raw, err := v.ReadFile(stored, hive.MaxFileSize)
	if err != nil {
		return nil, err
	}
	logNames, err := v.HiveLogs(stored)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	var logs []hive.LogData
	for _, l := range logNames {
		data, err := v.ReadFile(l, hive.MaxFileSize)
		if err != nil {
			return nil, err
		}
		logs = append(logs, hive.LogData{Name: l, Data: data})
	}
	h, err := hive.LoadWithLogs(raw, logs, &hive.OpenOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	return h, nil
}
