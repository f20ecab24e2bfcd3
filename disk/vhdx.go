package disk

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// vhdx reads the VHDX format ([MS-VHDX] v20240423): the newer of the two
// headers, the region table, the metadata region (block size, virtual disk
// size, logical sector size) and the BAT, whose payload entries are
// interleaved with sector-bitmap entries every chunk ratio. A header with a
// log GUID means the log holds writes that may not have been applied: they
// are replayed in memory (vhdxlog.go) before anything else is read.
// Differencing disks are refused.
type vhdx struct {
	f          readerAtCloser
	name       string
	fileSize   int64
	size       int64
	blockSize  int64
	chunkRatio int64
	bat        []uint64
}

const (
	vhdxHeader1   = 64 << 10
	vhdxHeader2   = 128 << 10
	vhdxRegion1   = 192 << 10
	vhdxRegion2   = 256 << 10
	vhdxRegionLen = 64 << 10
	// A BAT of more than this many entries (64 MiB of memory) is refused.
	vhdxMaxBAT = 8 << 20
)

// GUIDs in their on-disk byte order (first three fields little-endian).
var (
	vhdxBATGUID        = guidBytes("2DC27766-F623-4200-9D64-115E9BFD4A08")
	vhdxMetadataGUID   = guidBytes("8B7CA206-4790-4B9A-B8FE-575F050F886E")
	vhdxFileParamsGUID = guidBytes("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	vhdxDiskSizeGUID   = guidBytes("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	vhdxLogicalSecGUID = guidBytes("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
	// Required in every VHDX but not needed to read it.
	vhdxPhysicalSecGUID   = guidBytes("CDA348C7-445D-4471-9CC9-E9885251C556")
	vhdxDiskIDGUID        = guidBytes("BECA12AB-B2E6-4523-93EF-C309E000C746")
	vhdxParentLocatorGUID = guidBytes("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func openVHDX(f readerAtCloser, fileSize int64, name string) (Image, error) {
	le := binary.LittleEndian
	var sig [8]byte
	if err := readFull(f, sig[:], 0, name, "VHDX file identifier"); err != nil {
		return nil, err
	}
	if string(sig[:]) != "vhdxfile" {
		return nil, formatErr(name, 0, "not a VHDX image")
	}
	// The current header is the valid one with the higher sequence number.
	var cur []byte
	var curSeq uint64
	for _, at := range []int64{vhdxHeader1, vhdxHeader2} {
		h := make([]byte, 4096)
		if err := readFull(f, h, at, name, "VHDX header"); err != nil {
			return nil, err
		}
		if string(h[:4]) != "head" || !crc32cOK(h, 4) {
			continue
		}
		if seq := le.Uint64(h[8:]); cur == nil || seq > curSeq {
			cur, curSeq = h, seq
		}
	}
	if cur == nil {
		return nil, formatErr(name, vhdxHeader1, "VHDX: neither header is valid (signature or checksum)")
	}
	if v := le.Uint16(cur[66:]); v != 1 {
		return nil, unsupported(name, "VHDX header version %d", v)
	}
	if !bytes.Equal(cur[48:64], make([]byte, 16)) {
		// Writes wait in the log: read the image as it is once they are
		// replayed (in memory; the file is not written).
		var err error
		if f, fileSize, err = vhdxReplay(f, fileSize, name, cur); err != nil {
			return nil, err
		}
	}

	var region []byte
	for _, at := range []int64{vhdxRegion1, vhdxRegion2} {
		r := make([]byte, vhdxRegionLen)
		if err := readFull(f, r, at, name, "VHDX region table"); err != nil {
			return nil, err
		}
		if string(r[:4]) == "regi" && crc32cOK(r, 4) {
			region = r
			break
		}
	}
	if region == nil {
		return nil, formatErr(name, vhdxRegion1, "VHDX: neither region table is valid (signature or checksum)")
	}
	count := int(le.Uint32(region[8:]))
	if count > 2047 {
		return nil, formatErr(name, vhdxRegion1+8, "VHDX region table claims %d entries (at most 2047)", count)
	}
	var batAt, batLen, metaAt, metaLen int64
	for i := 0; i < count; i++ {
		e := region[16+i*32 : 48+i*32]
		off, length, required := int64(le.Uint64(e[16:])), int64(le.Uint32(e[24:])), le.Uint32(e[28:])&1 != 0
		switch {
		case bytes.Equal(e[:16], vhdxBATGUID[:]):
			batAt, batLen = off, length
		case bytes.Equal(e[:16], vhdxMetadataGUID[:]):
			metaAt, metaLen = off, length
		default:
			if required {
				return nil, unsupported(name, "VHDX required region %x", e[:16])
			}
		}
	}
	if metaLen == 0 || batLen == 0 {
		return nil, formatErr(name, vhdxRegion1, "VHDX region table lacks the BAT or metadata region")
	}
	if metaAt < 0 || metaLen > 1<<20 || metaAt+metaLen > fileSize || batAt < 0 || batAt+batLen > fileSize {
		return nil, formatErr(name, vhdxRegion1, "VHDX region (BAT %d+%d, metadata %d+%d) lies outside the file of %d bytes (truncated image?)", batAt, batLen, metaAt, metaLen, fileSize)
	}
	meta := make([]byte, metaLen)
	if err := readFull(f, meta, metaAt, name, "VHDX metadata region"); err != nil {
		return nil, err
	}
	if string(meta[:8]) != "metadata" {
		return nil, formatErr(name, metaAt, "VHDX metadata table signature missing")
	}
	items := map[[16]byte][]byte{}
	n := int(le.Uint16(meta[10:]))
	if n > 2047 || 32+n*32 > len(meta) {
		return nil, formatErr(name, metaAt+10, "VHDX metadata table claims %d entries", n)
	}
	var hasParent bool
	for i := 0; i < n; i++ {
		e := meta[32+i*32 : 64+i*32]
		var id [16]byte
		copy(id[:], e)
		off, length, flags := int64(le.Uint32(e[16:])), int64(le.Uint32(e[20:])), le.Uint32(e[24:])
		if off+length > metaLen {
			return nil, formatErr(name, metaAt+32+int64(i)*32, "VHDX metadata item at %d+%d lies outside the metadata region", off, length)
		}
		items[id] = meta[off : off+length]
		switch id {
		case vhdxFileParamsGUID, vhdxDiskSizeGUID, vhdxLogicalSecGUID, vhdxPhysicalSecGUID, vhdxDiskIDGUID:
		case vhdxParentLocatorGUID:
			hasParent = true
		default:
			if flags&4 != 0 {
				return nil, unsupported(name, "VHDX required metadata item %s", guidString(id[:]))
			}
		}
	}
	fp, ds, ls := items[vhdxFileParamsGUID], items[vhdxDiskSizeGUID], items[vhdxLogicalSecGUID]
	if len(fp) < 8 || len(ds) < 8 || len(ls) < 4 {
		return nil, formatErr(name, metaAt, "VHDX metadata lacks file parameters, virtual disk size or logical sector size")
	}
	v := &vhdx{f: f, name: name, fileSize: fileSize}
	v.blockSize = int64(le.Uint32(fp))
	if le.Uint32(fp[4:])&2 != 0 || hasParent {
		return nil, unsupported(name, "differencing VHDX (it has a parent; merge it first)")
	}
	v.size = int64(le.Uint64(ds))
	sector := int64(le.Uint32(ls))
	if v.blockSize < 1<<20 || v.blockSize > 256<<20 || v.blockSize&(v.blockSize-1) != 0 {
		return nil, formatErr(name, metaAt, "VHDX block size %d is not a power of two from 1 MiB to 256 MiB", v.blockSize)
	}
	if sector != 512 && sector != 4096 {
		return nil, formatErr(name, metaAt, "VHDX logical sector size %d (512 or 4096)", sector)
	}
	if v.size < 0 || v.size > 64<<40 {
		return nil, formatErr(name, metaAt, "VHDX virtual disk size %d is out of range (at most 64 TiB)", v.size)
	}
	v.chunkRatio = (1 << 23) * sector / v.blockSize
	blocks := (v.size + v.blockSize - 1) / v.blockSize
	entries := blocks + (blocks-1)/v.chunkRatio
	if blocks == 0 {
		entries = 0
	}
	if entries > vhdxMaxBAT || entries*8 > batLen {
		return nil, formatErr(name, batAt, "VHDX BAT region of %d bytes is too small for %d entries (or over budget)", batLen, entries)
	}
	raw := make([]byte, entries*8)
	if err := readFull(f, raw, batAt, name, "VHDX BAT"); err != nil {
		return nil, err
	}
	v.bat = make([]uint64, entries)
	for i := range v.bat {
		v.bat[i] = le.Uint64(raw[i*8:])
	}
	return v, nil
}

func crc32cOK(b []byte, at int) bool {
	want := binary.LittleEndian.Uint32(b[at:])
	c := make([]byte, len(b))
	copy(c, b)
	clear(c[at : at+4])
	return crc32.Checksum(c, castagnoli) == want
}

func (v *vhdx) Size() int64    { return v.size }
func (v *vhdx) Format() string { return "vhdx" }
func (v *vhdx) Close() error   { return v.f.Close() }

// BAT payload block states.
const (
	vhdxNotPresent       = 0
	vhdxUndefined        = 1
	vhdxZero             = 2
	vhdxUnmapped         = 3
	vhdxFullyPresent     = 6
	vhdxPartiallyPresent = 7
)

func (v *vhdx) ReadAt(p []byte, off int64) (int, error) {
	return readBounded(p, off, v.size, func(p []byte, off int64) error {
		for len(p) > 0 {
			block := off / v.blockSize
			in := off % v.blockSize
			n := v.blockSize - in
			if n > int64(len(p)) {
				n = int64(len(p))
			}
			idx := block + block/v.chunkRatio
			e := v.bat[idx]
			switch e & 7 {
			case vhdxNotPresent, vhdxUndefined, vhdxZero, vhdxUnmapped:
				clear(p[:n])
			case vhdxFullyPresent:
				at := int64(e>>20)<<20 + in
				if at+n > v.fileSize {
					return formatErr(v.name, at, "VHDX block %d lies beyond the end of the file (%d bytes; truncated image?)", block, v.fileSize)
				}
				if err := readFull(v.f, p[:n], at, v.name, "VHDX block"); err != nil {
					return err
				}
			default:
				return formatErr(v.name, -1, "VHDX BAT entry %d has state %d, not valid in a disk without parent", idx, e&7)
			}
			p = p[n:]
			off += n
		}
		return nil
	})
}

// guidBytes converts a GUID's text form to its on-disk bytes.
func guidBytes(s string) [16]byte {
	var b [16]byte
	hex := make([]byte, 0, 32)
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			hex = append(hex, s[i])
		}
	}
	var raw [16]byte
	for i := 0; i < 16; i++ {
		raw[i] = unhex(hex[2*i])<<4 | unhex(hex[2*i+1])
	}
	// Data1 (4 bytes), Data2, Data3 (2 each) are little-endian on disk.
	b[0], b[1], b[2], b[3] = raw[3], raw[2], raw[1], raw[0]
	b[4], b[5] = raw[5], raw[4]
	b[6], b[7] = raw[7], raw[6]
	copy(b[8:], raw[8:])
	return b
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// guidString formats on-disk GUID bytes in their text form.
func guidString(b []byte) string {
	const h = "0123456789ABCDEF"
	order := []int{3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15}
	out := make([]byte, 0, 36)
	for _, i := range order {
		if i < 0 {
			out = append(out, '-')
			continue
		}
		out = append(out, h[b[i]>>4], h[b[i]&15])
	}
	return string(out)
}
