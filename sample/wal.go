package sample

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// SQLite WAL file layout (sqlite.org/fileformat2.html, "WAL File Format"):
// a 32-byte header (magic, version, page size, checkpoint sequence, salt-1,
// salt-2, checksum-1, checksum-2), then frames of a 24-byte header (page
// number, database size for commit frames, salt-1, salt-2, checksum-1,
// checksum-2) and one page each. Checksums run cumulatively over the header
// and every frame; the magic's low bit says whether the 32-bit words are
// summed big-endian (1) or little-endian (0).
const (
	walHeaderSize      = 32
	walFrameHeaderSize = 24
	walMagicLE         = 0x377f0682
	walMagicBE         = 0x377f0683
)

// resaltWAL returns a copy of wal with the given salts and every checksum
// recomputed. SQLite draws the salts at random; replacing them with values
// from the seed makes the file reproducible and leaves it exactly as valid.
func resaltWAL(wal []byte, salts [2]uint32) ([]byte, error) {
	if len(wal) < walHeaderSize {
		return nil, errors.New("WAL shorter than its header")
	}
	out := append([]byte(nil), wal...)
	magic := binary.BigEndian.Uint32(out[0:])
	var order binary.ByteOrder
	switch magic {
	case walMagicLE:
		order = binary.LittleEndian
	case walMagicBE:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("WAL magic %#x", magic)
	}
	pageSize := int(binary.BigEndian.Uint32(out[8:]))
	if pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		if pageSize != 1 { // 1 encodes 65536
			return nil, fmt.Errorf("WAL page size %d", pageSize)
		}
		pageSize = 65536
	}
	frameSize := walFrameHeaderSize + pageSize
	if (len(out)-walHeaderSize)%frameSize != 0 {
		return nil, fmt.Errorf("WAL of %d bytes is not whole frames of %d", len(out), frameSize)
	}
	binary.BigEndian.PutUint32(out[16:], salts[0])
	binary.BigEndian.PutUint32(out[20:], salts[1])
	s0, s1 := walChecksum(order, out[:24], 0, 0)
	binary.BigEndian.PutUint32(out[24:], s0)
	binary.BigEndian.PutUint32(out[28:], s1)
	for off := walHeaderSize; off < len(out); off += frameSize {
		f := out[off : off+frameSize]
		binary.BigEndian.PutUint32(f[8:], salts[0])
		binary.BigEndian.PutUint32(f[12:], salts[1])
		s0, s1 = walChecksum(order, f[:8], s0, s1)
		s0, s1 = walChecksum(order, f[walFrameHeaderSize:], s0, s1)
		binary.BigEndian.PutUint32(f[16:], s0)
		binary.BigEndian.PutUint32(f[20:], s1)
	}
	return out, nil
}

// walChecksum is SQLite's WAL checksum over b (a multiple of 8 bytes).
func walChecksum(order binary.ByteOrder, b []byte, s0, s1 uint32) (uint32, uint32) {
	for i := 0; i+8 <= len(b); i += 8 {
		s0 += order.Uint32(b[i:]) + s1
		s1 += order.Uint32(b[i+4:]) + s0
	}
	return s0, s1
}
