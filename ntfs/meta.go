package ntfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// readVolumeInfo reads $Volume's label, version and dirty flag.
func (v *Volume) readVolumeInfo() error {
	attrs, err := v.fileAttrs(recVolume)
	if err != nil {
		return fmt.Errorf("ntfs: $Volume: %w", err)
	}
	for _, a := range attrs {
		switch {
		case a.typ == attrVolumeName && a.resident:
			v.label = utf16le(a.value)
		case a.typ == attrVolumeInfo && a.resident && len(a.value) >= 12:
			v.version = [2]byte{a.value[8], a.value[9]}
			if binary.LittleEndian.Uint16(a.value[10:])&0x0001 != 0 {
				v.dirty = append(v.dirty, "the volume's dirty flag is set (chkdsk has not run since an unclean shutdown)")
			}
		}
	}
	return nil
}

// checkLogFile decides whether $LogFile holds transactions not yet applied
// to the volume. An empty log (all 0xFF, as NTFS-3G leaves it) or a restart
// area with no client in use, or flagged clean, is consistent. Anything else
// means Windows did not shut down cleanly — or hibernated, which fast
// startup does at every shutdown — and the volume must not be read as if
// it were consistent.
func (v *Volume) checkLogFile() error {
	attrs, err := v.fileAttrs(recLogFile)
	if err != nil {
		return fmt.Errorf("ntfs: $LogFile: %w", err)
	}
	s, err := v.newStream(recLogFile, pick(attrs, attrData, ""))
	if err != nil {
		return fmt.Errorf("ntfs: $LogFile: %w", err)
	}
	page := make([]byte, 4096)
	if s.size < int64(len(page)) {
		v.dirty = append(v.dirty, "$LogFile is too small to hold a restart area")
		return nil
	}
	if _, err := s.ReadAt(page, 0); err != nil {
		return fmt.Errorf("ntfs: $LogFile: %w", err)
	}
	if bytes.Count(page, []byte{0xff}) == len(page) {
		return nil
	}
	if string(page[:4]) != "RSTR" && string(page[:4]) != "CHKD" {
		v.dirty = append(v.dirty, fmt.Sprintf("$LogFile restart page has signature %q", page[:4]))
		return nil
	}
	le := binary.LittleEndian
	sysPage := int64(le.Uint32(page[16:]))
	if sysPage >= 512 && sysPage <= 64<<10 && sysPage != int64(len(page)) {
		page = make([]byte, sysPage)
		if _, err := s.ReadAt(page, 0); err != nil {
			return fmt.Errorf("ntfs: $LogFile: %w", err)
		}
	}
	if err := applyFixup(page, 512, recLogFile); err != nil {
		v.dirty = append(v.dirty, "$LogFile restart page is torn")
		return nil
	}
	ra := int(le.Uint16(page[24:]))
	if ra+16 > len(page) {
		v.dirty = append(v.dirty, "$LogFile restart area lies outside its page")
		return nil
	}
	inUse := le.Uint16(page[ra+12:])
	flags := le.Uint16(page[ra+14:])
	if inUse != 0xffff && flags&0x0002 == 0 {
		v.dirty = append(v.dirty, "$LogFile holds transactions not applied to the volume (Windows was not shut down cleanly, or hibernated by fast startup)")
	}
	return nil
}
