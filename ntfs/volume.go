// Package ntfs reads an NTFS volume from an io.ReaderAt, with the metadata
// a mounted volume loses: security descriptors, file attributes, alternate
// data streams, reparse points, DOS short names, hard links and the four
// timestamps. It only reads. Every count, length and offset taken from the
// volume is checked against the record, the attribute or the volume before
// use, so a hostile volume gives an error, never a panic or an unbounded
// allocation.
//
// Written from public descriptions of the on-disk format (the NTFS
// structures documented by Microsoft's [MS-FSCC] and the Linux-NTFS project's
// published documentation); no code of NTFS-3G is used.
package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrBitLocker is returned by Open for a BitLocker-encrypted volume.
var ErrBitLocker = errors.New("volume is BitLocker-encrypted (-FVE-FS-); decrypt it in Windows first")

// ErrNotNTFS is returned by Open for a volume that is not NTFS.
var ErrNotNTFS = errors.New("not an NTFS volume")

// CorruptError reports a structure of the volume that is not valid.
type CorruptError struct {
	Record int64 // MFT record number, or -1
	Msg    string
	err    error // the cause, when there is one
}

// Unwrap returns the cause (a codec's error, ErrWIMBacked), if any.
func (e *CorruptError) Unwrap() error { return e.err }

func (e *CorruptError) Error() string {
	if e.Record >= 0 {
		return fmt.Sprintf("ntfs: MFT record %d: %s", e.Record, e.Msg)
	}
	return "ntfs: " + e.Msg
}

func corrupt(rec int64, format string, args ...any) error {
	return &CorruptError{Record: rec, Msg: fmt.Sprintf(format, args...)}
}

// Volume is an open NTFS volume.
type Volume struct {
	r           io.ReaderAt
	size        int64
	sectorSize  int64
	clusterSize int64
	clusters    int64
	recordSize  int64
	indexSize   int64
	mftLCN      int64
	mft         *stream // $MFT's unnamed $DATA
	records     int64
	cache       *recordCache
	sds         *stream // $Secure:$SDS
	sdIndex     map[uint32]sdsEntry
	wofCache    *wofCache // decoded chunks of WOF-compressed files
	dirty       []string
	label       string
	version     [2]byte
}

// Well-known MFT record numbers.
const (
	recMFT     = 0
	recLogFile = 2
	recVolume  = 3
	recRoot    = 5
	recSecure  = 9
	recUpCase  = 10
	firstUser  = 16
)

// Open reads the boot sector and $MFT of the NTFS volume in r (size bytes).
func Open(r io.ReaderAt, size int64) (*Volume, error) {
	var b [512]byte
	if n, err := r.ReadAt(b[:], 0); n < len(b) {
		return nil, fmt.Errorf("ntfs: reading the boot sector: %w", orEOF(err))
	}
	switch string(b[3:11]) {
	case "-FVE-FS-":
		return nil, ErrBitLocker
	case "NTFS    ":
	default:
		return nil, ErrNotNTFS
	}
	le := binary.LittleEndian
	v := &Volume{r: r, size: size}
	v.sectorSize = int64(le.Uint16(b[11:]))
	if v.sectorSize < 256 || v.sectorSize > 4096 || v.sectorSize&(v.sectorSize-1) != 0 {
		return nil, corrupt(-1, "boot sector: %d bytes per sector", v.sectorSize)
	}
	spc := int64(b[13])
	if spc > 0x80 {
		if 256-spc > 20 {
			return nil, corrupt(-1, "boot sector: sectors per cluster 2^%d", 256-spc)
		}
		spc = 1 << (256 - spc)
	}
	if spc == 0 || spc&(spc-1) != 0 {
		return nil, corrupt(-1, "boot sector: %d sectors per cluster", spc)
	}
	v.clusterSize = v.sectorSize * spc
	if v.clusterSize > 2<<20 {
		return nil, corrupt(-1, "boot sector: clusters of %d bytes", v.clusterSize)
	}
	totalSectors := int64(le.Uint64(b[40:]))
	if totalSectors <= 0 || totalSectors > size/v.sectorSize+1 {
		return nil, corrupt(-1, "boot sector: %d sectors but the volume holds %d bytes (truncated?)", totalSectors, size)
	}
	v.clusters = totalSectors / spc
	v.mftLCN = int64(le.Uint64(b[48:]))
	if v.mftLCN <= 0 || v.mftLCN >= v.clusters {
		return nil, corrupt(-1, "boot sector: $MFT at cluster %d outside the volume", v.mftLCN)
	}
	v.recordSize = sizeField(int8(b[64]), v.clusterSize)
	v.indexSize = sizeField(int8(b[68]), v.clusterSize)
	if v.recordSize < 512 || v.recordSize > 64<<10 || v.recordSize&(v.recordSize-1) != 0 {
		return nil, corrupt(-1, "boot sector: MFT records of %d bytes", v.recordSize)
	}
	v.cache = newRecordCache(16384) // 16 MiB of 1 KiB records
	v.wofCache = newWOFCache(8 << 20)

	// $MFT's own record: read directly at the boot sector's cluster; its
	// $DATA runs (possibly in extension records listed by its attribute
	// list, which lie in the first extent) map the rest of the MFT.
	rec0 := make([]byte, v.recordSize)
	if n, err := r.ReadAt(rec0, v.mftLCN*v.clusterSize); n < len(rec0) {
		return nil, fmt.Errorf("ntfs: reading $MFT: %w", orEOF(err))
	}
	if err := v.fixup(rec0, recMFT); err != nil {
		return nil, err
	}
	attrs, err := parseAttrs(rec0, recMFT)
	if err != nil {
		return nil, err
	}
	var first *attr
	for i := range attrs {
		if attrs[i].typ == attrData && attrs[i].name == "" {
			first = &attrs[i]
			break
		}
	}
	if first == nil || first.resident {
		return nil, corrupt(recMFT, "$MFT has no non-resident $DATA")
	}
	v.mft, err = v.newStream(recMFT, []attr{*first})
	if err != nil {
		return nil, err
	}
	v.records = v.mft.size / v.recordSize
	// With the first extent mapped, the full attribute set (attribute list
	// included) can be read like any other file's.
	full, err := v.fileAttrs(recMFT)
	if err != nil {
		return nil, err
	}
	if data := pick(full, attrData, ""); len(data) > 0 {
		if v.mft, err = v.newStream(recMFT, data); err != nil {
			return nil, err
		}
		v.records = v.mft.size / v.recordSize
	}
	// The MFT is never sparse or compressed and lies inside the volume: a
	// record claiming otherwise would have the tree scan billions of
	// records that are not there.
	if v.mft.cuSize > 0 || v.mft.size > v.size {
		return nil, corrupt(recMFT, "$MFT of %d bytes (compressed: %v) on a volume of %d bytes", v.mft.size, v.mft.cuSize > 0, v.size)
	}
	for _, r := range v.mft.runs {
		if r.lcn < 0 {
			return nil, corrupt(recMFT, "$MFT has a sparse run at VCN %d", r.vcn)
		}
	}
	if err := v.readVolumeInfo(); err != nil {
		return nil, err
	}
	if err := v.checkLogFile(); err != nil {
		return nil, err
	}
	if err := v.readSecure(); err != nil {
		return nil, err
	}
	return v, nil
}

func orEOF(err error) error {
	if err == nil {
		return io.ErrUnexpectedEOF
	}
	return err
}

// sizeField decodes the boot sector's clusters-per-record byte: positive
// counts clusters, negative is a power of two in bytes.
func sizeField(c int8, cluster int64) int64 {
	if c > 0 {
		return int64(c) * cluster
	}
	if c < -30 {
		return 0
	}
	return 1 << uint(-c)
}

// ClusterSize returns the volume's cluster size in bytes.
func (v *Volume) ClusterSize() int64 { return v.clusterSize }

// Label returns the volume label.
func (v *Volume) Label() string { return v.label }

// Dirty returns why the volume may not be consistent: the dirty flag in
// $Volume, a $LogFile with unapplied transactions (Windows did not shut
// down cleanly, or hibernated, as fast startup does). Empty when clean.
func (v *Volume) Dirty() []string { return append([]string(nil), v.dirty...) }

// fixup applies the update sequence array of a multi-sector record.
func (v *Volume) fixup(b []byte, rec int64) error {
	return applyFixup(b, v.sectorSize, rec)
}

func applyFixup(b []byte, sector int64, rec int64) error {
	le := binary.LittleEndian
	if len(b) < 8 {
		return corrupt(rec, "record too short")
	}
	usaOff, usaCount := int(le.Uint16(b[4:])), int(le.Uint16(b[6:]))
	if sector > int64(len(b)) {
		sector = int64(len(b))
	}
	sectors := len(b) / int(sector)
	if usaCount != sectors+1 || usaOff+2*usaCount > len(b) || usaOff < 8 {
		return corrupt(rec, "update sequence array (%d entries at %d) does not fit %d sectors", usaCount, usaOff, sectors)
	}
	usn := b[usaOff : usaOff+2]
	for i := 0; i < sectors; i++ {
		end := (i+1)*int(sector) - 2
		if b[end] != usn[0] || b[end+1] != usn[1] {
			return corrupt(rec, "torn write: sector %d fails the update sequence check", i)
		}
		b[end], b[end+1] = b[usaOff+2+2*i], b[usaOff+3+2*i]
	}
	return nil
}

// record reads MFT record n (fixups applied), through the cache. Records
// are read in aligned batches of recordBatch: a scan of the MFT then costs
// one read per batch, not one per record.
func (v *Volume) record(n int64) ([]byte, error) {
	if n < 0 || n >= v.records {
		return nil, corrupt(n, "beyond the end of the MFT (%d records)", v.records)
	}
	if b, ok := v.cache.get(n); ok {
		return b, nil
	}
	first := n &^ (recordBatch - 1)
	count := min(recordBatch, v.records-first)
	buf := make([]byte, count*v.recordSize)
	if _, err := v.mft.ReadAt(buf, first*v.recordSize); err != nil && err != io.EOF {
		return nil, fmt.Errorf("ntfs: reading MFT record %d: %w", n, err)
	}
	var out []byte
	for i := int64(0); i < count; i++ {
		r := first + i
		b := buf[i*v.recordSize : (i+1)*v.recordSize : (i+1)*v.recordSize]
		if string(b[:4]) != "FILE" {
			// An unused, never-written record.
			v.cache.put(r, nil)
			continue
		}
		if err := v.fixup(b, r); err != nil {
			if r == n {
				return nil, err
			}
			continue // reported when that record itself is asked for
		}
		v.cache.put(r, b)
		if r == n {
			out = b
		}
	}
	return out, nil
}

// recordBatch records are read at once (a power of two).
const recordBatch = 16
