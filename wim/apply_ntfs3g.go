package wim

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// On an NTFS-3G mount Apply also writes what NTFS keeps beyond POSIX, through
// NTFS-3G's extended attributes: security descriptors, DOS names, named
// streams, reparse points as their raw data (so junctions and links to other
// volumes come out exactly), attributes and all three timestamps.

// settableAttributes are the attributes NTFS-3G lets a caller set.
const settableAttributes = AttrReadOnly | AttrHidden | AttrSystem | AttrArchive | AttrNormal | 0x100 | 0x1000 | AttrNotContentIndexed

func (a *applier) ntfsExtras(f *File, path string) error {
	if !a.ntfs {
		return nil
	}
	if f.SecurityID >= 0 && int(f.SecurityID) < len(a.plan.security) {
		if err := setXattr(path, xattrACLName, a.plan.security[f.SecurityID]); err != nil {
			return err
		}
	}
	if f.ShortName != "" {
		if err := setXattr(path, xattrDOSNameName, []byte(f.ShortName)); err != nil {
			return err
		}
	}
	for _, s := range f.NamedStreams {
		if s.Size > maxADSBytes {
			return fmt.Errorf("%s: named stream %q of %d bytes is too large to write through NTFS-3G", path, s.Name, s.Size)
		}
		rd, _, err := a.r.OpenStream(s.Hash)
		if err != nil {
			return fmt.Errorf("%s: stream %q: %w", path, s.Name, err)
		}
		data, err := io.ReadAll(rd)
		if err != nil {
			return fmt.Errorf("%s: stream %q: %w", path, s.Name, err)
		}
		if err := setXattr(path, "user."+s.Name, data); err != nil {
			return err
		}
	}
	return nil
}

// ntfsLinks creates every reparse point as an empty file or directory that
// carries the reparse data NTFS stores.
func (a *applier) ntfsLinks() error {
	for _, l := range a.plan.links {
		if a.plan.skipped[l] {
			continue
		}
		path := a.hostPath(l)
		if l.IsDir() {
			if err := os.Mkdir(path, 0o755); err != nil {
				return err
			}
		} else {
			f, err := createExclusive(path)
			if err != nil {
				return err
			}
			f.Close()
		}
		data, err := a.r.readSmallStream(l.Reparse.Hash, a.dec)
		if err != nil {
			return fmt.Errorf("%s: reparse data: %w", path, err)
		}
		buf := make([]byte, 8+len(data))
		binary.LittleEndian.PutUint32(buf[0:], l.ReparseTag)
		binary.LittleEndian.PutUint16(buf[4:], uint16(len(data)))
		copy(buf[8:], data)
		if err := setXattr(path, xattrReparseName, buf); err != nil {
			return err
		}
		if err := a.ntfsExtras(l, path); err != nil {
			return err
		}
	}
	return nil
}

// ntfsFinish sets timestamps and attributes, files first and directories
// deepest first, so that nothing written later changes them.
func (a *applier) ntfsFinish() error {
	set := func(f *File) error {
		path := a.hostPath(f)
		var times [24]byte
		binary.LittleEndian.PutUint64(times[0:], f.CreationTime)
		binary.LittleEndian.PutUint64(times[8:], f.LastWriteTime)
		binary.LittleEndian.PutUint64(times[16:], f.LastAccessTime)
		if err := setXattr(path, xattrTimesName, times[:]); err != nil {
			return err
		}
		var attr [4]byte
		binary.LittleEndian.PutUint32(attr[:], f.Attributes&settableAttributes)
		return setXattr(path, xattrAttribName, attr[:])
	}
	for _, f := range a.plan.files {
		if err := set(f); err != nil {
			return err
		}
	}
	for _, l := range a.plan.links {
		if a.plan.skipped[l] {
			continue
		}
		if err := set(l); err != nil {
			return err
		}
	}
	for i := len(a.plan.dirs) - 1; i >= 1; i-- {
		if err := set(a.plan.dirs[i]); err != nil {
			return err
		}
	}
	return nil
}
