package hive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Layout constants of the regf format.
const (
	baseBlockSize  = 4096
	binHeaderSize  = 32
	binAlign       = 4096
	cellAlign      = 8
	bigDataSegment = 16344 // largest data segment of a db record (and largest plain data cell on 1.4+)
	leafMax        = 512   // subkeys per lh/lf leaf before an ri index is used

	// maxHiveBins caps the hive bins size taken from a file or a log, so no
	// hostile length makes us allocate without bound (Windows limits hives
	// to 2 GiB; real ones are far smaller).
	maxHiveBins = 1 << 31

	fileTypePrimary = 0
	fileTypeLogOld1 = 1
	fileTypeLogOld2 = 2
	fileTypeLogNew  = 6
)

// nk flags.
const (
	keyVolatile  = 0x0001
	keyHiveExit  = 0x0002
	keyHiveEntry = 0x0004
	keyNoDelete  = 0x0008
	keySymLink   = 0x0010
	keyCompName  = 0x0020
)

// vk flags.
const valueCompName = 0x0001

// noCell marks an absent cell reference.
const noCell = 0xFFFFFFFF

// ErrNotExist is wrapped by OpenKey, Value, DeleteKey and DeleteValue when
// the key or value is absent.
var ErrNotExist = errors.New("hive: does not exist")

// ErrFormat is wrapped by every error about malformed hive or log content.
var ErrFormat = errors.New("hive: malformed")

func formatErr(off int64, format string, args ...any) error {
	return fmt.Errorf("%w at offset 0x%x: %s", ErrFormat, off, fmt.Sprintf(format, args...))
}

var le = binary.LittleEndian

// baseBlock is a decoded view of the 4096-byte header.
type baseBlock struct {
	raw []byte
}

func (b baseBlock) signatureOK() bool { return string(b.raw[0:4]) == "regf" }
func (b baseBlock) seq1() uint32      { return le.Uint32(b.raw[4:]) }
func (b baseBlock) seq2() uint32      { return le.Uint32(b.raw[8:]) }
func (b baseBlock) timestamp() uint64 { return le.Uint64(b.raw[12:]) }
func (b baseBlock) major() uint32     { return le.Uint32(b.raw[20:]) }
func (b baseBlock) minor() uint32     { return le.Uint32(b.raw[24:]) }
func (b baseBlock) fileType() uint32  { return le.Uint32(b.raw[28:]) }
func (b baseBlock) fileFormat() uint32 {
	return le.Uint32(b.raw[32:])
}
func (b baseBlock) root() uint32     { return le.Uint32(b.raw[36:]) }
func (b baseBlock) binsSize() uint32 { return le.Uint32(b.raw[40:]) }
func (b baseBlock) checksumOK() bool { return le.Uint32(b.raw[508:]) == xorChecksum(b.raw) }

// xorChecksum is the base block checksum: XOR of the first 127 dwords.
func xorChecksum(raw []byte) uint32 {
	var c uint32
	for i := 0; i < 508; i += 4 {
		c ^= le.Uint32(raw[i:])
	}
	return c
}

// FILETIME conversions.
const filetimeEpochDelta = 116444736000000000 // 100 ns intervals from 1601 to 1970

func filetimeToTime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	d := int64(ft) - filetimeEpochDelta
	return time.Unix(d/10_000_000, (d%10_000_000)*100).UTC()
}

func timeToFiletime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100 + filetimeEpochDelta)
}

func align(n, a int) int { return (n + a - 1) / a * a }
