// Package wim reads and writes Windows Imaging (WIM) files, the archive format
// of DISM, ImageX and wimlib.
//
// A Reader lists the images of a WIM, parses their directory trees, opens and
// verifies their file data and applies an image to a directory. Capture
// writes a directory tree as a new WIM or appends it as a new image.
// Compression is delegated to the codec packages wim/xpress, wim/lzx and
// wim/lzms (LZMS is read, not yet written); this package handles the container: header, blob
// table, chunked and solid resources, XML data, metadata resources, the
// integrity table and split WIMs.
//
// The layout follows Microsoft's WIM documentation and wimlib's published
// documentation of the format.
package wim

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Compression is the compression format of a WIM or of one resource.
type Compression int

const (
	CompressNone Compression = iota
	CompressXPRESS
	CompressLZX
	CompressLZMS
)

func (c Compression) String() string {
	switch c {
	case CompressNone:
		return "none"
	case CompressXPRESS:
		return "XPRESS"
	case CompressLZX:
		return "LZX"
	case CompressLZMS:
		return "LZMS"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// ParseCompression accepts the names the command line uses (none, xpress,
// fast, lzx, maximum, lzms, recovery), in any case.
func ParseCompression(s string) (Compression, error) {
	switch lower(s) {
	case "none":
		return CompressNone, nil
	case "xpress", "fast":
		return CompressXPRESS, nil
	case "lzx", "maximum":
		return CompressLZX, nil
	case "lzms", "recovery":
		return CompressLZMS, nil
	}
	return 0, fmt.Errorf("unknown compression %q (want none, xpress or lzx)", s)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// On-disk sizes and magic values.
const (
	headerSize       = 208
	reshdrSize       = 24
	blobEntrySize    = 50
	versionDefault   = 0x10d00 // WIM version 1.13
	versionSolid     = 0xe00   // WIMs that contain solid resources
	defaultChunkSize = 32 * 1024
	// defaultLZMSChunkSize is wimlib's (and DISM's) for non-solid LZMS.
	defaultLZMSChunkSize = 128 * 1024
	integrityChunk       = 10 * 1024 * 1024
	solidMagicSize       = 0x100000000 // the uncompressed size a solid resource header claims
	maxChunkSize         = 1 << 26     // 64 MiB: the largest chunk we agree to decompress
	// Limits on what is read whole (docs/wim.md, "Security"): each is many
	// times what a real WIM needs, and small enough that reading it, with
	// everything made from it, stays within a few hundred MB.
	maxMetadataSize   = 256 << 20 // a metadata resource (Windows 11's are about 100 MB)
	maxXMLSize        = 8 << 20   // the XML data (DISM's are tens of KB)
	maxBlobEntries    = 1 << 19   // blob table entries per part (a multi-edition install.wim has ~150 000)
	maxBlobTableBytes = maxBlobEntries * blobEntrySize
	// maxResourceChunks bounds the chunk table of one resource (32 GiB of
	// data in 32 KiB chunks): the table is read whole before the data.
	maxResourceChunks = 1 << 20
)

var wimMagic = [8]byte{'M', 'S', 'W', 'I', 'M', 0, 0, 0}

// Header flags.
const (
	hdrFlagCompression  = 0x00000002
	hdrFlagReadOnly     = 0x00000004
	hdrFlagSpanned      = 0x00000008
	hdrFlagResourceOnly = 0x00000010
	hdrFlagMetadataOnly = 0x00000020
	hdrFlagWriteInProg  = 0x00000040
	hdrFlagRPFix        = 0x00000080
	hdrFlagXPRESS       = 0x00020000
	hdrFlagLZX          = 0x00040000
	hdrFlagLZMS         = 0x00080000
	hdrFlagXPRESS2      = 0x00200000
)

// Resource header flags.
const (
	resFlagFree       = 0x01
	resFlagMetadata   = 0x02
	resFlagCompressed = 0x04
	resFlagSpanned    = 0x08
	resFlagSolid      = 0x10
)

// File attributes (the Windows FILE_ATTRIBUTE_* values).
const (
	AttrReadOnly          = 0x1
	AttrHidden            = 0x2
	AttrSystem            = 0x4
	AttrDirectory         = 0x10
	AttrArchive           = 0x20
	AttrNormal            = 0x80
	AttrSparseFile        = 0x200
	AttrReparsePoint      = 0x400
	AttrCompressed        = 0x800
	AttrNotContentIndexed = 0x2000
	AttrEncrypted         = 0x4000
)

// ErrFormat is wrapped by every error that reports a malformed WIM.
var ErrFormat = errors.New("malformed WIM")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// resHeader locates one resource (a run of possibly compressed bytes) in the file.
type resHeader struct {
	StoredSize int64 // bytes in the file (56 bits on disk)
	Flags      uint8
	Offset     int64
	OrigSize   int64 // uncompressed size
}

func (h resHeader) compressed() bool { return h.Flags&resFlagCompressed != 0 }

func parseResHeader(b []byte) resHeader {
	v := binary.LittleEndian.Uint64(b[0:8])
	return resHeader{
		StoredSize: int64(v & (1<<56 - 1)),
		Flags:      uint8(v >> 56),
		Offset:     int64(binary.LittleEndian.Uint64(b[8:16])),
		OrigSize:   int64(binary.LittleEndian.Uint64(b[16:24])),
	}
}

func (h resHeader) put(b []byte) {
	binary.LittleEndian.PutUint64(b[0:8], uint64(h.StoredSize)|uint64(h.Flags)<<56)
	binary.LittleEndian.PutUint64(b[8:16], uint64(h.Offset))
	binary.LittleEndian.PutUint64(b[16:24], uint64(h.OrigSize))
}

// Header is the fixed 208-byte header at the start of every WIM.
type Header struct {
	Version    uint32
	Flags      uint32
	ChunkSize  uint32
	GUID       [16]byte
	PartNumber uint16
	TotalParts uint16
	ImageCount uint32
	BootIndex  uint32

	blobTable    resHeader
	xmlData      resHeader
	bootMetadata resHeader
	integrity    resHeader
}

// Compression is the default compression of the WIM's resources.
func (h *Header) Compression() Compression {
	if h.Flags&hdrFlagCompression == 0 {
		return CompressNone
	}
	switch {
	case h.Flags&hdrFlagLZMS != 0:
		return CompressLZMS
	case h.Flags&hdrFlagLZX != 0:
		return CompressLZX
	case h.Flags&(hdrFlagXPRESS|hdrFlagXPRESS2) != 0:
		return CompressXPRESS
	}
	return Compression(-1)
}

// HasIntegrity reports whether the WIM carries an integrity table.
func (h *Header) HasIntegrity() bool { return h.integrity.Offset != 0 && h.integrity.OrigSize != 0 }

// RPFix reports whether absolute symbolic link targets were made relative to
// the image root at capture ("reparse point fix-ups").
func (h *Header) RPFix() bool { return h.Flags&hdrFlagRPFix != 0 }

func parseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < headerSize {
		return h, formatErr("file too short for a header (%d bytes)", len(b))
	}
	if [8]byte(b[0:8]) != wimMagic {
		return h, formatErr("not a WIM file (bad magic %q)", b[0:8])
	}
	if size := binary.LittleEndian.Uint32(b[8:12]); size != headerSize {
		return h, formatErr("header size %d, want %d", size, headerSize)
	}
	h.Version = binary.LittleEndian.Uint32(b[12:16])
	h.Flags = binary.LittleEndian.Uint32(b[16:20])
	h.ChunkSize = binary.LittleEndian.Uint32(b[20:24])
	copy(h.GUID[:], b[24:40])
	h.PartNumber = binary.LittleEndian.Uint16(b[40:42])
	h.TotalParts = binary.LittleEndian.Uint16(b[42:44])
	h.ImageCount = binary.LittleEndian.Uint32(b[44:48])
	h.blobTable = parseResHeader(b[48:72])
	h.xmlData = parseResHeader(b[72:96])
	h.bootMetadata = parseResHeader(b[96:120])
	h.BootIndex = binary.LittleEndian.Uint32(b[120:124])
	h.integrity = parseResHeader(b[124:148])
	if h.Version != versionDefault && h.Version != versionSolid {
		return h, formatErr("unsupported WIM version %#x", h.Version)
	}
	if h.Compression() < 0 {
		return h, formatErr("unknown compression flags %#x", h.Flags)
	}
	if h.Compression() != CompressNone {
		cs := h.ChunkSize
		if cs < 4096 || cs > maxChunkSize || cs&(cs-1) != 0 {
			return h, formatErr("invalid chunk size %d", cs)
		}
	}
	if h.BootIndex > h.ImageCount {
		return h, formatErr("boot index %d beyond image count %d", h.BootIndex, h.ImageCount)
	}
	return h, nil
}

func (h *Header) marshal() []byte {
	b := make([]byte, headerSize)
	copy(b, wimMagic[:])
	binary.LittleEndian.PutUint32(b[8:], headerSize)
	binary.LittleEndian.PutUint32(b[12:], h.Version)
	binary.LittleEndian.PutUint32(b[16:], h.Flags)
	binary.LittleEndian.PutUint32(b[20:], h.ChunkSize)
	copy(b[24:40], h.GUID[:])
	binary.LittleEndian.PutUint16(b[40:], h.PartNumber)
	binary.LittleEndian.PutUint16(b[42:], h.TotalParts)
	binary.LittleEndian.PutUint32(b[44:], h.ImageCount)
	h.blobTable.put(b[48:])
	h.xmlData.put(b[72:])
	h.bootMetadata.put(b[96:])
	binary.LittleEndian.PutUint32(b[120:], h.BootIndex)
	h.integrity.put(b[124:])
	return b
}

// Hash is the SHA-1 digest that names a blob.
type Hash [20]byte

func (h Hash) IsZero() bool { return h == Hash{} }

func (h Hash) String() string { return fmt.Sprintf("%x", h[:]) }

// blobEntry is one row of the blob (lookup) table.
type blobEntry struct {
	res        resHeader
	partNumber uint16
	refCount   uint32
	hash       Hash
}

func parseBlobEntry(b []byte) blobEntry {
	var e blobEntry
	e.res = parseResHeader(b[0:24])
	e.partNumber = binary.LittleEndian.Uint16(b[24:26])
	e.refCount = binary.LittleEndian.Uint32(b[26:30])
	copy(e.hash[:], b[30:50])
	return e
}

func (e *blobEntry) put(b []byte) {
	e.res.put(b[0:24])
	binary.LittleEndian.PutUint16(b[24:26], e.partNumber)
	binary.LittleEndian.PutUint32(b[26:30], e.refCount)
	copy(b[30:50], e.hash[:])
}

// Names of NTFS-3G's extended attributes (see ntfs3g_linux.go).
const (
	xattrACLName     = "system.ntfs_acl"
	xattrAttribName  = "system.ntfs_attrib"
	xattrDOSNameName = "system.ntfs_dos_name"
	xattrReparseName = "system.ntfs_reparse_data"
	xattrTimesName   = "system.ntfs_times"
	maxADSBytes      = 64 << 20 // a named stream is read or written whole; larger ones are refused
)
