package disk

import (
	"encoding/binary"
	"io"
)

// vhd reads the Virtual Hard Disk format (Microsoft's VHD Image Format
// Specification): fixed disks (the data followed by a 512-byte footer) and
// dynamic disks (a block allocation table of 32-bit sector offsets).
// Differencing disks are refused.
type vhd struct {
	f         readerAtCloser
	name      string
	fileSize  int64
	size      int64
	dynamic   bool
	blockSize int64
	bitmapLen int64 // bytes of sector bitmap before each block's data
	bat       []uint32
}

const (
	vhdFixed        = 2
	vhdDynamic      = 3
	vhdDifferencing = 4
	vhdUnused       = 0xffffffff
	// A BAT of more than this many entries is refused: with the smallest
	// 512-byte blocks that is still 2 TiB of disk (16 MiB of table).
	vhdMaxBAT = 1 << 22
)

func openVHD(f readerAtCloser, fileSize int64, name string) (Image, error) {
	be := binary.BigEndian
	var foot [512]byte
	footAt := fileSize - 512
	if footAt < 0 {
		return nil, formatErr(name, 0, "VHD footer: file of %d bytes is too short (truncated image?)", fileSize)
	}
	if err := readFull(f, foot[:], footAt, name, "VHD footer"); err != nil {
		return nil, err
	}
	if string(foot[:8]) != "conectix" {
		// Older images have a 511-byte footer; dynamic disks keep a copy at 0.
		var alt [512]byte
		if err := readFull(f, alt[:], 0, name, "VHD footer copy"); err != nil {
			return nil, err
		}
		if string(alt[:8]) != "conectix" {
			return nil, formatErr(name, footAt, "VHD footer cookie missing (truncated image?)")
		}
		foot = alt
	}
	if !vhdChecksumOK(foot[:], 64) {
		return nil, formatErr(name, footAt, "VHD footer checksum mismatch")
	}
	v := &vhd{f: f, name: name, fileSize: fileSize, size: int64(be.Uint64(foot[48:]))}
	if v.size < 0 || v.size > 1<<42 {
		return nil, formatErr(name, footAt+48, "VHD current size %d is out of range", v.size)
	}
	switch typ := be.Uint32(foot[60:]); typ {
	case vhdFixed:
		if v.size > fileSize-512 {
			return nil, formatErr(name, footAt+48, "fixed VHD claims %d bytes of data but the file holds %d (truncated image?)", v.size, fileSize-512)
		}
		return v, nil
	case vhdDynamic:
		v.dynamic = true
	case vhdDifferencing:
		return nil, unsupported(name, "differencing VHD (merge it into its parent first)")
	default:
		return nil, formatErr(name, footAt+60, "VHD disk type %d", typ)
	}
	hdrAt := int64(be.Uint64(foot[16:]))
	if hdrAt < 512 || hdrAt > fileSize-1024 {
		return nil, formatErr(name, footAt+16, "VHD dynamic header offset %d outside the file", hdrAt)
	}
	var h [1024]byte
	if err := readFull(f, h[:], hdrAt, name, "VHD dynamic header"); err != nil {
		return nil, err
	}
	if string(h[:8]) != "cxsparse" {
		return nil, formatErr(name, hdrAt, "VHD dynamic header cookie missing")
	}
	if !vhdChecksumOK(h[:], 36) {
		return nil, formatErr(name, hdrAt, "VHD dynamic header checksum mismatch")
	}
	batAt := int64(be.Uint64(h[16:]))
	entries := int64(be.Uint32(h[28:]))
	v.blockSize = int64(be.Uint32(h[32:]))
	if v.blockSize < 512 || v.blockSize > 256<<20 || v.blockSize&(v.blockSize-1) != 0 {
		return nil, formatErr(name, hdrAt+32, "VHD block size %d is not a power of two from 512 bytes to 256 MiB", v.blockSize)
	}
	if need := (v.size + v.blockSize - 1) / v.blockSize; entries < need {
		return nil, formatErr(name, hdrAt+28, "VHD block table has %d entries, the disk size needs %d", entries, need)
	} else {
		entries = need
	}
	if entries > vhdMaxBAT || batAt < 0 || batAt+entries*4 > fileSize {
		return nil, formatErr(name, hdrAt+16, "VHD block table (%d entries at %d) lies outside the file or over budget", entries, batAt)
	}
	raw := make([]byte, entries*4)
	if err := readFull(f, raw, batAt, name, "VHD block table"); err != nil {
		return nil, err
	}
	v.bat = make([]uint32, entries)
	for i := range v.bat {
		v.bat[i] = be.Uint32(raw[i*4:])
	}
	sectorsPerBlock := v.blockSize / 512
	v.bitmapLen = ((sectorsPerBlock+7)/8 + 511) &^ 511
	return v, nil
}

// vhdChecksumOK checks the one's complement sum of all bytes but the
// checksum field at sumAt.
func vhdChecksumOK(b []byte, sumAt int) bool {
	var sum uint32
	for i, c := range b {
		if i >= sumAt && i < sumAt+4 {
			continue
		}
		sum += uint32(c)
	}
	return ^sum == binary.BigEndian.Uint32(b[sumAt:])
}

func (v *vhd) Size() int64 { return v.size }
func (v *vhd) Format() string {
	if v.dynamic {
		return "vhd-dynamic"
	}
	return "vhd-fixed"
}
func (v *vhd) Close() error { return v.f.Close() }

func (v *vhd) ReadAt(p []byte, off int64) (int, error) {
	return readBounded(p, off, v.size, func(p []byte, off int64) error {
		if !v.dynamic {
			return readFull(v.f, p, off, v.name, "VHD data")
		}
		for len(p) > 0 {
			block := off / v.blockSize
			in := off % v.blockSize
			n := v.blockSize - in
			if n > int64(len(p)) {
				n = int64(len(p))
			}
			if s := v.bat[block]; s == vhdUnused {
				clear(p[:n])
			} else {
				at := int64(s)*512 + v.bitmapLen + in
				if at+n > v.fileSize {
					return formatErr(v.name, at, "VHD block %d lies beyond the end of the file (%d bytes)", block, v.fileSize)
				}
				if _, err := v.f.ReadAt(p[:n], at); err != nil && err != io.EOF {
					return err
				}
			}
			p = p[n:]
			off += n
		}
		return nil
	})
}
