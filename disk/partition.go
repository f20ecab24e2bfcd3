package disk

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

// Partition is one entry of a disk's partition table.
type Partition struct {
	Number int    // 1-based: GPT entry index, or MBR 1..4 primary, 5.. logical
	Start  int64  // bytes from the start of the disk
	Size   int64  // bytes
	Type   string // GPT type GUID, or the MBR type as "0x07"
	Name   string // GPT partition name ("" for MBR)
	GUID   string // GPT unique partition GUID
}

// Table is a disk's partition table.
type Table struct {
	Scheme     string // "gpt", "mbr" or "none" (the disk is one volume)
	SectorSize int
	Partitions []Partition
}

// Section returns a reader over partition p of disk.
func (p Partition) Section(disk io.ReaderAt) *io.SectionReader {
	return io.NewSectionReader(disk, p.Start, p.Size)
}

// Budgets on what a partition table may claim.
const (
	gptMaxEntryBytes = 1 << 20 // the entry array (the usual one is 16 KiB)
	mbrMaxLogical    = 128     // logical partitions in an extended chain
)

var (
	gptEmpty     [16]byte
	gptBasicData = guidBytes("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")
)

// ReadTable reads the GPT (checking its CRCs, falling back to the backup
// header) or the MBR of a disk of size bytes. A disk with neither is
// reported as scheme "none" with the whole disk as partition 1, so that a
// bare volume image reads the same way.
func ReadTable(r io.ReaderAt, size int64) (*Table, error) {
	var mbr [512]byte
	if err := readFull(r, mbr[:], 0, "disk", "MBR"); err != nil {
		return nil, err
	}
	hasMBR := mbr[510] == 0x55 && mbr[511] == 0xaa
	protective := false
	if hasMBR {
		for i := 0; i < 4; i++ {
			if mbr[446+i*16+4] == 0xee {
				protective = true
			}
		}
	}
	for _, sector := range []int64{512, 4096} {
		if t, err := readGPT(r, size, sector); err == nil {
			return t, nil
		} else if protective && sector == 4096 {
			return nil, err
		}
	}
	if hasMBR && !looksLikeBootSector(mbr[:]) {
		return readMBR(r, size, mbr[:])
	}
	return &Table{Scheme: "none", SectorSize: 512, Partitions: []Partition{{Number: 1, Start: 0, Size: size}}}, nil
}

// looksLikeBootSector tells a volume boot sector (NTFS, FAT, BitLocker),
// which also ends in 55 AA, from an MBR.
func looksLikeBootSector(b []byte) bool {
	oem := string(b[3:11])
	return oem == "NTFS    " || oem == "-FVE-FS-" || oem == "EXFAT   " || strings.HasPrefix(string(b[82:90]), "FAT")
}

func readGPT(r io.ReaderAt, size, sector int64) (*Table, error) {
	t, err := readGPTAt(r, size, sector, sector)
	if err == nil {
		return t, nil
	}
	// The backup header sits in the disk's last sector.
	if size/sector > 2 {
		if t, err2 := readGPTAt(r, size, sector, (size/sector-1)*sector); err2 == nil {
			return t, nil
		}
	}
	return nil, err
}

func readGPTAt(r io.ReaderAt, size, sector, at int64) (*Table, error) {
	le := binary.LittleEndian
	h := make([]byte, sector)
	if err := readFull(r, h, at, "disk", "GPT header"); err != nil {
		return nil, err
	}
	if string(h[:8]) != "EFI PART" {
		return nil, formatErr("disk", at, "no GPT header")
	}
	hsize := le.Uint32(h[12:])
	if hsize < 92 || int64(hsize) > sector {
		return nil, formatErr("disk", at+12, "GPT header size %d", hsize)
	}
	want := le.Uint32(h[16:])
	hc := append([]byte(nil), h[:hsize]...)
	clear(hc[16:20])
	if crc32.ChecksumIEEE(hc) != want {
		return nil, formatErr("disk", at+16, "GPT header CRC mismatch")
	}
	entriesLBA := int64(le.Uint64(h[72:]))
	count := int64(le.Uint32(h[80:]))
	esize := int64(le.Uint32(h[84:]))
	if esize < 128 || esize%8 != 0 || esize > 4096 || count*esize > gptMaxEntryBytes {
		return nil, formatErr("disk", at+80, "GPT entry array (%d entries of %d bytes) is invalid or over budget", count, esize)
	}
	if entriesLBA < 0 || entriesLBA > size/sector || entriesLBA*sector+count*esize > size {
		return nil, formatErr("disk", at+72, "GPT entry array at LBA %d lies outside the disk", entriesLBA)
	}
	arr := make([]byte, count*esize)
	if err := readFull(r, arr, entriesLBA*sector, "disk", "GPT entry array"); err != nil {
		return nil, err
	}
	if crc32.ChecksumIEEE(arr) != le.Uint32(h[88:]) {
		return nil, formatErr("disk", at+88, "GPT entry array CRC mismatch")
	}
	t := &Table{Scheme: "gpt", SectorSize: int(sector)}
	for i := int64(0); i < count; i++ {
		e := arr[i*esize : (i+1)*esize]
		if bytes.Equal(e[:16], gptEmpty[:]) {
			continue
		}
		first, last := int64(le.Uint64(e[32:])), int64(le.Uint64(e[40:]))
		if first < 0 || last < first || last >= size/sector {
			return nil, formatErr("disk", entriesLBA*sector+i*esize, "GPT partition %d (LBA %d..%d) lies outside the disk", i+1, first, last)
		}
		u := make([]uint16, 36)
		for j := range u {
			u[j] = le.Uint16(e[56+2*j:])
		}
		name := utf16.Decode(u)
		for k, c := range name {
			if c == 0 {
				name = name[:k]
				break
			}
		}
		t.Partitions = append(t.Partitions, Partition{
			Number: int(i + 1), Start: first * sector, Size: (last - first + 1) * sector,
			Type: guidString(e[:16]), GUID: guidString(e[16:32]), Name: string(name),
		})
	}
	return t, nil
}

func readMBR(r io.ReaderAt, size int64, mbr []byte) (*Table, error) {
	le := binary.LittleEndian
	t := &Table{Scheme: "mbr", SectorSize: 512}
	var extStart int64 = -1
	for i := 0; i < 4; i++ {
		e := mbr[446+i*16 : 462+i*16]
		typ := e[4]
		start, count := int64(le.Uint32(e[8:])), int64(le.Uint32(e[12:]))
		if typ == 0 || count == 0 {
			continue
		}
		if (start+count)*512 > size {
			return nil, formatErr("disk", int64(446+i*16), "MBR partition %d (sectors %d+%d) lies outside the disk", i+1, start, count)
		}
		if typ == 0x05 || typ == 0x0f || typ == 0x85 {
			extStart = start
			continue
		}
		t.Partitions = append(t.Partitions, Partition{Number: i + 1, Start: start * 512, Size: count * 512, Type: fmt.Sprintf("0x%02x", typ)})
	}
	if extStart < 0 {
		return t, nil
	}
	// Logical partitions: a chain of EBRs, each relative to the extended
	// partition's start; a loop or an over-long chain is refused.
	seen := map[int64]bool{}
	next := int64(0)
	num := 5
	for {
		at := (extStart + next) * 512
		if seen[at] {
			return nil, formatErr("disk", at, "MBR extended partition chain loops")
		}
		if len(seen) >= mbrMaxLogical {
			return nil, formatErr("disk", at, "MBR extended partition chain longer than %d", mbrMaxLogical)
		}
		seen[at] = true
		var ebr [512]byte
		if err := readFull(r, ebr[:], at, "disk", "EBR"); err != nil {
			return nil, err
		}
		if ebr[510] != 0x55 || ebr[511] != 0xaa {
			return nil, formatErr("disk", at, "EBR signature missing")
		}
		e1, e2 := ebr[446:462], ebr[462:478]
		if e1[4] != 0 {
			start := extStart + next + int64(le.Uint32(e1[8:]))
			count := int64(le.Uint32(e1[12:]))
			if (start+count)*512 > size {
				return nil, formatErr("disk", at+446, "logical partition %d lies outside the disk", num)
			}
			t.Partitions = append(t.Partitions, Partition{Number: num, Start: start * 512, Size: count * 512, Type: fmt.Sprintf("0x%02x", e1[4])})
			num++
		}
		if e2[4] == 0 {
			return t, nil
		}
		next = int64(le.Uint32(e2[8:]))
	}
}

// IsBasicData reports whether p is a GPT basic data partition or an MBR
// partition of a type Windows volumes use (NTFS/exFAT 0x07, hidden 0x17,
// recovery 0x27).
func (p Partition) IsBasicData() bool {
	return p.Type == guidString(gptBasicData[:]) || p.Type == "0x07" || p.Type == "0x17" || p.Type == "0x27" || p.Type == ""
}
