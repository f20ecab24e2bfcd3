package ntfs

import (
	"encoding/binary"
	"fmt"
)

// sdsEntry locates one security descriptor in $Secure:$SDS.
type sdsEntry struct {
	off    int64
	length int64
}

const (
	sdsBlock   = 256 << 10 // $SDS is written in 256 KiB blocks, each followed by its mirror
	maxSDSize  = 64 << 10  // a security descriptor larger than this is corrupt
	maxSDCount = 1 << 20
)

// readSecure indexes $Secure:$SDS by security id, walking its entries (the
// $SII index would give the same map; walking the stream needs no B-tree).
func (v *Volume) readSecure() error {
	v.sdIndex = map[uint32]sdsEntry{}
	attrs, err := v.fileAttrs(recSecure)
	if err != nil {
		return fmt.Errorf("ntfs: $Secure: %w", err)
	}
	ext := pick(attrs, attrData, "$SDS")
	if len(ext) == 0 {
		return nil // NTFS 1.x: descriptors are in each file's own attribute
	}
	if v.sds, err = v.newStream(recSecure, ext); err != nil {
		return fmt.Errorf("ntfs: $Secure:$SDS: %w", err)
	}
	le := binary.LittleEndian
	var h [20]byte
	for off := int64(0); off+20 <= v.sds.size; {
		if (off/sdsBlock)%2 == 1 { // a mirror block
			off = (off/sdsBlock + 1) * sdsBlock
			continue
		}
		if _, err := v.sds.ReadAt(h[:], off); err != nil {
			return fmt.Errorf("ntfs: $Secure:$SDS at %d: %w", off, err)
		}
		id, at, length := le.Uint32(h[4:]), int64(le.Uint64(h[8:])), int64(le.Uint32(h[16:]))
		if length < 20 || length > maxSDSize+20 || at != off || off+length > v.sds.size {
			// The rest of this block is unused: go to the next one.
			off = (off/sdsBlock + 1) * sdsBlock
			continue
		}
		if len(v.sdIndex) >= maxSDCount {
			return fmt.Errorf("ntfs: $Secure:$SDS holds more than %d descriptors", maxSDCount)
		}
		v.sdIndex[id] = sdsEntry{off: off + 20, length: length - 20}
		off = (off + length + 15) &^ 15
	}
	return nil
}

// securityDescriptor returns the self-relative descriptor for a security
// id, or nil when there is none.
func (v *Volume) securityDescriptor(id uint32) ([]byte, error) {
	e, ok := v.sdIndex[id]
	if !ok || v.sds == nil {
		return nil, nil
	}
	b := make([]byte, e.length)
	if _, err := v.sds.ReadAt(b, e.off); err != nil {
		return nil, fmt.Errorf("ntfs: $Secure:$SDS security id %d: %w", id, err)
	}
	return b, nil
}
