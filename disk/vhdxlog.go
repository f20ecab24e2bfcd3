package disk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"sort"
)

// VHDX log replay ([MS-VHDX] 2.3): a header whose LogGuid is set says the
// log region holds metadata writes (BAT, metadata, region table sectors)
// that may not have reached their place. The log is a circular buffer of
// 4 KiB sectors holding entries: a header sector ("loge": checksum, length,
// tail, sequence number, descriptor count, log GUID, flushed and last file
// offsets) with 32-byte descriptors — "desc" (a 4 KiB sector to write at
// a file offset, its first 8 and last 4 bytes kept in the descriptor) and
// "zero" (a range to zero) — then one "data" sector per data descriptor
// (4,084 bytes of the sector between a signature and the sequence number
// split in two halves). Entries whose sequence numbers follow each other,
// each right after the previous one in the buffer, form a sequence; the
// active sequence is the one with the highest sequence number whose head
// (last entry) names as its tail the first entry of the sequence. Its
// entries, oldest first, are what replay applies. A log with no such
// sequence has nothing to replay (the GUID was set, no entry written whole).
//
// Replay here never writes the file: the writes go to an overlay in memory
// that every later read of the image goes through, so the image reads as
// it will after Hyper-V or qemu-img check -r all replays it.

const (
	vhdxLogSector = 4096
	// A log of more than this is refused (Hyper-V and qemu make 1 MiB).
	vhdxMaxLog = 64 << 20
	// Bytes checksummed while searching the log, at most: a log whose
	// every sector claims to start a huge entry cannot cost more.
	vhdxLogCRCBudget = 256 << 20
	// Bytes of zero descriptors, at most (they become ranges, not pages).
	vhdxMaxZero = 1 << 40
)

type vhdxLogEntry struct {
	off, length, tail int64
	seq               uint64
	flushed, last     int64
	writes            []vhdxLogWrite
}

type vhdxLogWrite struct {
	off, length int64
	data        []byte // nil: zeros
}

// vhdxReplay returns f as it reads after replaying the log that hdr (the
// current header) names, and the size the file has after it.
func vhdxReplay(f readerAtCloser, fileSize int64, name string, hdr []byte) (readerAtCloser, int64, error) {
	le := binary.LittleEndian
	guid := hdr[48:64]
	logVersion, logLen, logOff := le.Uint16(hdr[64:]), int64(le.Uint32(hdr[68:])), int64(le.Uint64(hdr[72:]))
	if logVersion != 0 {
		return nil, 0, unsupported(name, "VHDX log version %d", logVersion)
	}
	if logLen == 0 || logLen%(1<<20) != 0 || logLen > vhdxMaxLog || logOff < 1<<20 || logOff%(1<<20) != 0 || logOff+logLen > fileSize {
		return nil, 0, formatErr(name, vhdxHeader1, "VHDX log of %d bytes at %d (file of %d bytes; multiples of 1 MiB, at most %d MiB, inside the file)", logLen, logOff, fileSize, vhdxMaxLog>>20)
	}
	buf := make([]byte, logLen)
	if err := readFull(f, buf, logOff, name, "VHDX log"); err != nil {
		return nil, 0, err
	}
	l := &vhdxLog{buf: buf, guid: guid, budget: vhdxLogCRCBudget}
	entries := map[int64]*vhdxLogEntry{}
	for off := int64(0); off < logLen; off += vhdxLogSector {
		e, err := l.entry(off, false)
		if err != nil {
			return nil, 0, formatErr(name, logOff+off, "VHDX log: %v", err)
		}
		if e != nil {
			entries[off] = e
		}
	}
	// Candidate heads, newest first: the first whose chain back to its
	// tail is whole is the active sequence's head.
	heads := make([]*vhdxLogEntry, 0, len(entries))
	for _, e := range entries {
		heads = append(heads, e)
	}
	sort.Slice(heads, func(i, j int) bool { return heads[i].seq > heads[j].seq })
	var active []*vhdxLogEntry
	steps := 0
	for _, h := range heads {
		seq, ok := l.sequence(entries, h, &steps)
		if ok {
			active = seq
			break
		}
		if steps > 1<<20 {
			return nil, 0, formatErr(name, logOff, "VHDX log: %v", errLogBudget)
		}
	}
	if active == nil {
		// The GUID was set but no entry with it was written whole (a crash
		// before the first entry, or a torn one): nothing was applied
		// from it either, so the file is as it was. qemu-img reads such an
		// image as it is too.
		return f, fileSize, nil
	}
	head := active[len(active)-1]
	if head.flushed > fileSize {
		return nil, 0, formatErr(name, logOff, "VHDX log says the file was %d bytes when flushed, but it has %d (truncated image?)", head.flushed, fileSize)
	}
	o := &vhdxOverlay{base: f, baseSize: fileSize, pages: map[int64][]byte{}}
	var zeroed int64
	l.budget = 1 << 62 // the sequence was checked once already
	for _, a := range active {
		// Only now are the writes of an entry kept: the active sequence
		// spans at most the log, so they take at most its size.
		e, err := l.entry(a.off, true)
		if err != nil || e == nil {
			return nil, 0, formatErr(name, logOff+a.off, "VHDX log entry changed between reads")
		}
		for _, w := range e.writes {
			if w.data == nil {
				zeroed += w.length
				if zeroed > vhdxMaxZero {
					return nil, 0, formatErr(name, logOff+e.off, "VHDX log zeroes more than %d bytes", int64(vhdxMaxZero))
				}
			}
			o.apply(w)
		}
	}
	size := max(fileSize, head.last)
	return o, size, nil
}

type vhdxLog struct {
	buf    []byte
	guid   []byte
	budget int64
}

// at returns n bytes of the circular log from off.
func (l *vhdxLog) at(off, n int64) []byte {
	L := int64(len(l.buf))
	off %= L
	if off+n <= L {
		return l.buf[off : off+n]
	}
	out := make([]byte, 0, n)
	out = append(out, l.buf[off:]...)
	for int64(len(out)) < n {
		out = append(out, l.buf[:min(n-int64(len(out)), L)]...)
	}
	return out
}

// entry parses the log entry starting at off; nil when there is none (any
// check failing means "not a valid entry", as replay requires). An error
// only when the search budget is exhausted. The writes are kept only with
// keep: the search checks every entry but replays one sequence.
func (l *vhdxLog) entry(off int64, keep bool) (*vhdxLogEntry, error) {
	le := binary.LittleEndian
	L := int64(len(l.buf))
	h := l.at(off, 64)
	if string(h[:4]) != "loge" || !bytes.Equal(h[32:48], l.guid) {
		return nil, nil
	}
	e := &vhdxLogEntry{off: off, length: int64(le.Uint32(h[8:])), tail: int64(le.Uint32(h[12:])), seq: le.Uint64(h[16:]),
		flushed: int64(le.Uint64(h[48:])), last: int64(le.Uint64(h[56:]))}
	count := int64(le.Uint32(h[24:]))
	if e.length < vhdxLogSector || e.length%vhdxLogSector != 0 || e.length > L || e.tail%vhdxLogSector != 0 || e.tail >= L || e.flushed < 0 || e.last < 0 || e.last > 1<<50 {
		return nil, nil
	}
	descSectors := (64 + 32*count + vhdxLogSector - 1) / vhdxLogSector
	if descSectors*vhdxLogSector > e.length {
		return nil, nil
	}
	l.budget -= e.length
	if l.budget < 0 {
		return nil, errLogBudget
	}
	raw := l.at(off, e.length)
	sum := le.Uint32(raw[4:])
	c := crc32.Update(0, castagnoli, raw[:4])
	c = crc32.Update(c, castagnoli, []byte{0, 0, 0, 0})
	c = crc32.Update(c, castagnoli, raw[8:])
	if c != sum {
		return nil, nil
	}
	data := descSectors // next data sector
	for i := int64(0); i < count; i++ {
		d := raw[64+32*i : 96+32*i]
		fileOff, seq := int64(le.Uint64(d[16:])), le.Uint64(d[24:])
		if seq != e.seq || fileOff < 0 || fileOff > 1<<48 || fileOff%vhdxLogSector != 0 {
			return nil, nil
		}
		switch string(d[:4]) {
		case "zero":
			n := int64(le.Uint64(d[8:]))
			if n <= 0 || n%vhdxLogSector != 0 || n > vhdxMaxZero {
				return nil, nil
			}
			if keep {
				e.writes = append(e.writes, vhdxLogWrite{off: fileOff, length: n})
			}
		case "desc":
			if (data+1)*vhdxLogSector > e.length {
				return nil, nil
			}
			s := raw[data*vhdxLogSector : (data+1)*vhdxLogSector]
			data++
			if string(s[:4]) != "data" || le.Uint32(s[4:]) != uint32(seq>>32) || le.Uint32(s[4092:]) != uint32(seq) {
				return nil, nil
			}
			if keep {
				sector := make([]byte, vhdxLogSector)
				copy(sector, d[8:16])       // LeadingBytes
				copy(sector[8:], s[8:4092]) // the data
				copy(sector[4092:], d[4:8]) // TrailingBytes
				e.writes = append(e.writes, vhdxLogWrite{off: fileOff, length: vhdxLogSector, data: sector})
			}
		default:
			return nil, nil
		}
	}
	return e, nil
}

var errLogBudget = errors.New("too many log entries to check (hostile log?)")

// sequence returns the entries from h's tail to h, oldest first, when they
// form a whole sequence: each entry valid, right after the previous one,
// its sequence number one more.
func (l *vhdxLog) sequence(entries map[int64]*vhdxLogEntry, h *vhdxLogEntry, steps *int) ([]*vhdxLogEntry, bool) {
	L := int64(len(l.buf))
	var out []*vhdxLogEntry
	e := entries[h.tail]
	var span int64
	for e != nil {
		*steps++
		out = append(out, e)
		span += e.length
		if span > L || *steps > 1<<20 {
			return nil, false
		}
		if e == h {
			return out, true
		}
		next := entries[(e.off+e.length)%L]
		if next == nil || next.seq != e.seq+1 {
			return nil, false
		}
		e = next
	}
	return nil, false
}

// vhdxOverlay is the file with the log's writes laid over it.
type vhdxOverlay struct {
	base     readerAtCloser
	baseSize int64
	pages    map[int64][]byte // 4 KiB sectors written by data descriptors
	zeros    []vhdxLogWrite   // ranges zeroed (after any page written before)
}

func (o *vhdxOverlay) apply(w vhdxLogWrite) {
	if w.data != nil {
		o.pages[w.off] = w.data
		return
	}
	// A zero range hides the pages written before it.
	for p := range o.pages {
		if p >= w.off && p < w.off+w.length {
			delete(o.pages, p)
		}
	}
	o.zeros = append(o.zeros, w)
}

func (o *vhdxOverlay) Close() error { return o.base.Close() }

func (o *vhdxOverlay) ReadAt(p []byte, off int64) (int, error) {
	// The file past its end reads as zeros up to where the log extends it;
	// the caller bounds reads by that size.
	n := len(p)
	if off < o.baseSize {
		k, err := o.base.ReadAt(p[:min(int64(n), o.baseSize-off)], off)
		if k < int(min(int64(n), o.baseSize-off)) {
			return k, err
		}
		clear(p[k:])
	} else {
		clear(p)
	}
	end := off + int64(n)
	for _, z := range o.zeros {
		if lo, hi := max(z.off, off), min(z.off+z.length, end); lo < hi {
			// Zeros, unless a page written later covers part of it: those
			// are copied below, after this.
			clear(p[lo-off : hi-off])
		}
	}
	for s := off &^ (vhdxLogSector - 1); s < end; s += vhdxLogSector {
		if pg, ok := o.pages[s]; ok {
			lo, hi := max(s, off), min(s+vhdxLogSector, end)
			copy(p[lo-off:hi-off], pg[lo-s:hi-s])
		}
	}
	return n, nil
}
