package hive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// New-format transaction logs (msuhanov/regf, "Format of transaction log
// files", "New format"): the first 512-byte sector holds a copy of the base
// block with file type 6; log entries follow, each at a multiple of 512
// bytes: an "HvLE" header of 40 bytes (size, flags, sequence number, hive
// bins data size, dirty page count, Hash-1 over everything after the
// header, Hash-2 over the first 32 bytes, both Marvin32), the dirty page
// references (offset in the hive bins data, size) and the pages themselves.
const (
	logSectorSize     = 512
	logEntryHeaderLen = 40
	// logPageSize is the granularity in which Windows tracks dirty hive
	// bins data, and so the size of every page this package logs.
	logPageSize = 4096
)

// logBaseSector returns the first sector of base as a new-format log holds
// it: both sequence numbers seq, file type 6, checksum recomputed.
func logBaseSector(base []byte, seq uint32) []byte {
	b := append([]byte(nil), base[:baseBlockSize]...)
	le.PutUint32(b[4:], seq)
	le.PutUint32(b[8:], seq)
	le.PutUint32(b[28:], fileTypeLogNew)
	le.PutUint32(b[508:], xorChecksum(b))
	return b[:logSectorSize]
}

// appendLogEntry appends to dst an HvLE entry with sequence number seq and
// flags that takes hive bins data prev to next: it carries every 4096-byte
// page of next that differs from prev (or lies beyond it). It returns the
// longer slice and the number of pages logged.
func appendLogEntry(dst []byte, seq, flags uint32, prev, next []byte) ([]byte, int) {
	var refs, pages []byte
	count := 0
	for off := 0; off+logPageSize <= len(next); off += logPageSize {
		page := next[off : off+logPageSize]
		if off+logPageSize <= len(prev) && bytes.Equal(prev[off:off+logPageSize], page) {
			continue
		}
		refs = le.AppendUint32(refs, uint32(off))
		refs = le.AppendUint32(refs, logPageSize)
		pages = append(pages, page...)
		count++
	}
	size := align(logEntryHeaderLen+len(refs)+len(pages), logSectorSize)
	e := make([]byte, size)
	copy(e, "HvLE")
	le.PutUint32(e[4:], uint32(size))
	le.PutUint32(e[8:], flags)
	le.PutUint32(e[12:], seq)
	le.PutUint32(e[16:], uint32(len(next)))
	le.PutUint32(e[20:], uint32(count))
	copy(e[logEntryHeaderLen:], refs)
	copy(e[logEntryHeaderLen+len(refs):], pages)
	le.PutUint64(e[24:], marvin32(marvinSeed, e[logEntryHeaderLen:]))
	le.PutUint64(e[32:], marvin32(marvinSeed, e[:32]))
	return append(dst, e...), count
}

// WriteDirty writes h as Windows leaves a hive whose flush was cut short
// after its transaction log was written: primary receives the primary file
// as it was last flushed (flushed's content, with a primary sequence number
// one above the secondary, so that it reads as dirty), and log receives a
// new-format transaction log (for NAME.LOG1) whose one log entry carries
// every 4096-byte page in which h differs from flushed.
//
// A reader that replays logs (Open, Windows) finds h; one that does not
// (Open with NoLogs, hivex) finds flushed. flushed must be an earlier
// state of the same hive: same format version and root cell, as when it was
// written with WriteTo and read back with Load before h was edited further.
// The sequence number of the interrupted write is above both hives'.
func (h *Hive) WriteDirty(primary, log io.Writer, flushed *Hive) error {
	if h.closed || flushed.closed {
		return errClosed
	}
	if h == flushed {
		return errors.New("hive: WriteDirty needs the flushed state as a hive of its own")
	}
	hb, fb := baseBlock{h.base}, baseBlock{flushed.base}
	if hb.root() != fb.root() || hb.major() != fb.major() || hb.minor() != fb.minor() {
		return errors.New("hive: WriteDirty: the flushed state is not an earlier state of this hive (other root cell or version)")
	}
	seq := max(h.nextSeq(), flushed.nextSeq())

	// The primary file: the write numbered seq began (primary sequence
	// number) but never completed (secondary still seq-1).
	pbase := flushed.cleanBase(seq)
	le.PutUint32(pbase[8:], seq-1)
	le.PutUint32(pbase[508:], xorChecksum(pbase))

	// The log: the base block as it was in memory when the entry was
	// written, then the entry. Of the base block's flags only bit 0 is
	// logged.
	base := h.cleanBase(seq)
	entries, pages := appendLogEntry(logBaseSector(base, seq), seq, le.Uint32(base[144:])&1, flushed.data, h.data)
	if pages == 0 {
		return errors.New("hive: WriteDirty: the hive does not differ from its flushed state, nothing to log")
	}

	if _, err := primary.Write(pbase); err != nil {
		return fmt.Errorf("write dirty primary: %w", err)
	}
	if _, err := primary.Write(flushed.data); err != nil {
		return fmt.Errorf("write dirty primary: %w", err)
	}
	if _, err := log.Write(entries); err != nil {
		return fmt.Errorf("write transaction log: %w", err)
	}
	h.base = base
	return nil
}
