package sample

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strings"
	"time"
)

// A dirty hive is what a machine leaves when it is switched off before the
// registry wrote its changes back: since Windows 8.1 changes go first to a
// transaction log (*.LOG1, "new format": HvLE entries) and reach the
// primary file only later. The primary file holds the older state with its
// sequence numbers apart; the log holds the pages that bring it up to date.
// Format: msuhanov/regf, "Format of transaction log files", "New format".

const (
	regfBaseBlock   = 4096
	logSector       = 512
	logPage         = 4096
	logFileTypeNew  = 6
	hvleHeaderSize  = 40
	marvinLogSeed   = 0x82EF4D887A4E55C5 // bytes 82 EF 4D 88 7A 4E 55 C5
	dirtySequence   = 1207               // the last completed write
	baseSeq1Offset  = 4
	baseSeq2Offset  = 8
	baseTypeOffset  = 28
	baseBinsOffset  = 40
	baseCheckOffset = 508
)

// dirtyHive serializes older and newer hives and returns the primary file
// (older's bins, base block marked dirty) and a .LOG1 whose one log entry
// carries every page in which newer differs from older.
func dirtyHive(older, newer *regTree, now time.Time) (primary, log []byte, err error) {
	a, err := serializeHive(older, now)
	if err != nil {
		return nil, nil, err
	}
	b, err := serializeHive(newer, now)
	if err != nil {
		return nil, nil, err
	}
	le := binary.LittleEndian
	if le.Uint32(a[36:]) != le.Uint32(b[36:]) {
		return nil, nil, errors.New("the two states have different root cells")
	}
	oldBins, newBins := a[regfBaseBlock:], b[regfBaseBlock:]

	// The primary: older data; the write that began (sequence N+1) never
	// completed (secondary still N).
	primary = append([]byte(nil), a...)
	le.PutUint32(primary[baseSeq1Offset:], dirtySequence+1)
	le.PutUint32(primary[baseSeq2Offset:], dirtySequence)
	putBaseChecksum(primary)

	// The log's base block: the in-memory base block when the entry was
	// written (both numbers N+1, newer's size), first sector only.
	head := append([]byte(nil), b[:logSector]...)
	le.PutUint32(head[baseSeq1Offset:], dirtySequence+1)
	le.PutUint32(head[baseSeq2Offset:], dirtySequence+1)
	le.PutUint32(head[baseTypeOffset:], logFileTypeNew)
	putBaseChecksum(head)

	var refs, pages []byte
	count := 0
	for off := 0; off < len(newBins); off += logPage {
		end := off + logPage
		if end <= len(oldBins) && bytes.Equal(oldBins[off:end], newBins[off:end]) {
			continue
		}
		refs = le.AppendUint32(refs, uint32(off))
		refs = le.AppendUint32(refs, logPage)
		pages = append(pages, newBins[off:end]...)
		count++
	}
	if count == 0 {
		return nil, nil, errors.New("the two states are identical: nothing to log")
	}
	size := hvleHeaderSize + len(refs) + len(pages)
	size = (size + logSector - 1) / logSector * logSector
	entry := make([]byte, size)
	copy(entry, "HvLE")
	le.PutUint32(entry[4:], uint32(size))
	le.PutUint32(entry[8:], le.Uint32(b[144:])&1) // flags: only bit 0 is logged
	le.PutUint32(entry[12:], dirtySequence+1)
	le.PutUint32(entry[16:], uint32(len(newBins)))
	le.PutUint32(entry[20:], uint32(count))
	copy(entry[hvleHeaderSize:], refs)
	copy(entry[hvleHeaderSize+len(refs):], pages)
	le.PutUint64(entry[24:], marvin32(marvinLogSeed, entry[hvleHeaderSize:]))
	le.PutUint64(entry[32:], marvin32(marvinLogSeed, entry[:32]))
	return primary, append(head, entry...), nil
}

// writeDirtyHive writes the primary file at path and its log at path.LOG1.
func writeDirtyHive(older, newer *regTree, path string, now time.Time) error {
	primary, log, err := dirtyHive(older, newer, now)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, primary, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(path+".LOG1", log, 0o644); err != nil {
		return fmt.Errorf("write transaction log: %w", err)
	}
	return nil
}

func putBaseChecksum(b []byte) {
	var sum uint32
	for i := 0; i < baseCheckOffset; i += 4 {
		sum ^= binary.LittleEndian.Uint32(b[i:])
	}
	switch sum {
	case 0:
		sum = 1
	case 0xffffffff:
		sum = 0xfffffffe
	}
	binary.LittleEndian.PutUint32(b[baseCheckOffset:], sum)
}

// marvin32 is Microsoft's Marvin32 hash (published with the .NET runtime),
// which HvLE entries use.
func marvin32(seed uint64, data []byte) uint64 {
	p0, p1 := uint32(seed), uint32(seed>>32)
	for len(data) >= 4 {
		p0 += binary.LittleEndian.Uint32(data)
		p0, p1 = marvinMix(p0, p1)
		data = data[4:]
	}
	final := uint32(0x80)
	switch len(data) {
	case 1:
		final = 0x8000 | uint32(data[0])
	case 2:
		final = 0x800000 | uint32(binary.LittleEndian.Uint16(data))
	case 3:
		final = 0x80000000 | uint32(data[2])<<16 | uint32(binary.LittleEndian.Uint16(data))
	}
	p0 += final
	p0, p1 = marvinMix(p0, p1)
	p0, p1 = marvinMix(p0, p1)
	return uint64(p1)<<32 | uint64(p0)
}

func marvinMix(p0, p1 uint32) (uint32, uint32) {
	p1 ^= p0
	p0 = bits.RotateLeft32(p0, 20)
	p0 += p1
	p1 = bits.RotateLeft32(p1, 9)
	p1 ^= p0
	p0 = bits.RotateLeft32(p0, 27)
	p0 += p1
	p1 = bits.RotateLeft32(p1, 19)
	return p0, p1
}

// unflushedSystem is SYSTEM as it was before the last changes: the DHCP
// lease as obtained a day earlier, and without the service installed last.
func (v *volume) unflushedSystem() *regTree {
	older := v.system().clone()
	older.deleteKey(cs + `\Services\vm3dservice`)
	lease := cs + `\Services\Tcpip\Parameters\Interfaces\` + strings.ToLower(v.id.ifGUID)
	obtained := uint32(v.id.leaseObtained.Add(-24 * time.Hour).Unix())
	older.dword(lease, "LeaseObtainedTime", obtained)
	older.dword(lease, "T1", obtained+43200)
	older.dword(lease, "T2", obtained+75600)
	older.dword(lease, "LeaseTerminatesTime", obtained+86400)
	return older
}
