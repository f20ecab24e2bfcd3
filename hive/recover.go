package hive

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// logFile is a transaction log read from beside the primary file.
type logFile struct {
	path string
	raw  []byte
	stat logStat // as found beside the hive (zero for logs given by a caller)
	// parsed holds entries() once cacheEntries has run: verifying the
	// entries' hashes is most of the cost of reading a log.
	parsed *[]logEntry
}

// cacheEntries parses each new-format log's entries once, for maxSeq and
// recovery.
func cacheEntries(logs []logFile) {
	for i := range logs {
		if bb, ok := logs[i].logBase(); ok && bb.fileType() == fileTypeLogNew {
			e := logs[i].parseEntries()
			logs[i].parsed = &e
		}
	}
}

// logSuffixes are the log names Windows uses, in the order they are tried.
var logSuffixes = []string{".LOG1", ".LOG2", ".LOG"}

// logStat is a transaction log found beside a hive: its path, and its
// size and modification time when it was looked at.
type logStat struct {
	path string
	size int64
	mod  time.Time
}

// listLogs finds the non-empty transaction logs beside path (names
// compared case-insensitively: images copied off NTFS keep any case), in
// the order of logSuffixes.
func listLogs(path string) ([]logStat, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("look for transaction logs: %w", err)
	}
	var out []logStat
	for _, suf := range logSuffixes {
		want := strings.ToUpper(base + suf)
		for _, e := range ents {
			if e.IsDir() || strings.ToUpper(e.Name()) != want {
				continue
			}
			p := filepath.Join(dir, e.Name())
			st, err := os.Stat(p)
			if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
				continue
			}
			out = append(out, logStat{path: p, size: st.Size(), mod: st.ModTime()})
			break
		}
	}
	return out, nil
}

// findLogs reads the transaction logs beside path.
func findLogs(path string) ([]logFile, error) {
	stats, err := listLogs(path)
	if err != nil {
		return nil, err
	}
	var out []logFile
	for _, st := range stats {
		raw, err := readLog(st.path)
		if err != nil {
			return nil, fmt.Errorf("read transaction log: %w", err)
		}
		out = append(out, logFile{path: st.path, raw: raw, stat: st})
	}
	return out, nil
}

// readLog reads a transaction log. Of a new-format log only the base block
// and the entries up to the first whose header is malformed are read:
// that is all recovery looks at, and a log file is often mostly stale
// bytes beyond its last entry (regipy's SYSTEM_B.LOG1 holds 42 KB of
// entries in 3 MB). Any other log is read whole.
func readLog(path string) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := min(st.Size(), maxHiveBins+baseBlockSize+1)
	head := make([]byte, min(size, 512))
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, err
	}
	if bb, ok := (logFile{raw: head}).logBase(); !ok || bb.fileType() != fileTypeLogNew {
		return readRegular(path, func(int) int { return 0 })
	}
	// The entries' headers first, then everything they span in one read
	// into one buffer.
	end := int64(512)
	var hdr [8]byte
	for end+40 <= size {
		if _, err := f.ReadAt(hdr[:], end); err != nil {
			break
		}
		n := int64(le.Uint32(hdr[4:]))
		if string(hdr[:4]) != "HvLE" || n < 40 || n%512 != 0 || n > size-end {
			break
		}
		end += n
	}
	raw := newBuffer(int(end))
	copy(raw, head)
	n, err := f.ReadAt(raw[512:], 512)
	if err != nil && err != io.EOF {
		return nil, err
	}
	// A file that shrank while it was read keeps what was there.
	raw = raw[:512+n]
	return raw, nil
}

// logBase returns the log's base block copy when it is valid: signature,
// checksum, equal sequence numbers and a log file type.
func (l logFile) logBase() (baseBlock, bool) {
	if len(l.raw) < 512 {
		return baseBlock{}, false
	}
	b := make([]byte, baseBlockSize)
	copy(b, l.raw[:512])
	bb := baseBlock{b}
	if !bb.signatureOK() || !bb.checksumOK() || bb.seq1() != bb.seq2() {
		return baseBlock{}, false
	}
	switch bb.fileType() {
	case fileTypeLogOld1, fileTypeLogOld2, fileTypeLogNew:
		return bb, true
	}
	return baseBlock{}, false
}

// maxSeq is the highest sequence number the log mentions (base block or
// entries), used so that a commit's sequence number exceeds all of them.
func (l logFile) maxSeq() uint32 {
	bb, ok := l.logBase()
	if !ok {
		return 0
	}
	m := max(bb.seq1(), bb.seq2())
	if bb.fileType() == fileTypeLogNew {
		for _, e := range l.entries() {
			m = max(m, e.seq)
		}
	}
	return m
}

// logEntry is one HvLE entry whose hashes were verified.
type logEntry struct {
	seq      uint32
	binsSize uint32
	pages    []logPage
	log      string
}

type logPage struct {
	off  uint32
	data []byte
}

// entries returns the HvLE entries of a new-format log, stopping at the
// first entry that is malformed or whose hashes do not match.
func (l logFile) entries() []logEntry {
	if l.parsed != nil {
		return *l.parsed
	}
	return l.parseEntries()
}

func (l logFile) parseEntries() []logEntry {
	var out []logEntry
	off := 512
	for off+40 <= len(l.raw) {
		e := l.raw[off:]
		if string(e[:4]) != "HvLE" {
			break
		}
		size := int(le.Uint32(e[4:]))
		if size < 40 || size%512 != 0 || size > len(e) {
			break
		}
		e = e[:size]
		binsSize := le.Uint32(e[16:])
		count := int(le.Uint32(e[20:]))
		if binsSize == 0 || binsSize%binAlign != 0 || binsSize > maxHiveBins {
			break
		}
		if le.Uint64(e[32:]) != marvin32(marvinSeed, e[:32]) || le.Uint64(e[24:]) != marvin32(marvinSeed, e[40:]) {
			break
		}
		if count > (size-40)/8 {
			break
		}
		pages := make([]logPage, 0, count)
		p := 40 + 8*count
		ok := true
		for i := 0; i < count; i++ {
			po, ps := le.Uint32(e[40+8*i:]), int(le.Uint32(e[44+8*i:]))
			if ps <= 0 || ps%512 != 0 || ps > size-p || uint64(po)+uint64(ps) > uint64(binsSize) {
				ok = false
				break
			}
			pages = append(pages, logPage{off: po, data: e[p : p+ps]})
			p += ps
		}
		if !ok {
			break
		}
		out = append(out, logEntry{seq: le.Uint32(e[12:]), binsSize: binsSize, pages: pages, log: l.path})
		off += size
	}
	return out
}

// recover applies the logs to a dirty primary and returns the recovered
// hive bins data; h.base is updated to match. Nothing is written to disk.
func (h *Hive) recover(data []byte, logs []logFile, checksumOK bool) ([]byte, error) {
	var newLogs, oldLogs []logFile
	for _, l := range logs {
		bb, ok := l.logBase()
		if !ok {
			continue
		}
		if bb.fileType() == fileTypeLogNew {
			newLogs = append(newLogs, l)
		} else {
			oldLogs = append(oldLogs, l)
		}
	}
	if len(newLogs) > 0 {
		return h.recoverNew(data, newLogs, checksumOK)
	}
	if len(oldLogs) > 0 {
		return h.recoverOld(data, oldLogs, checksumOK)
	}
	if !checksumOK {
		return nil, formatErr(508, "base block checksum is wrong and no valid transaction log can repair it")
	}
	return data, nil
}

// recoverNew applies HvLE entries of LOG1 and LOG2 in sequence order,
// starting at the primary's sequence number and stopping at a gap.
func (h *Hive) recoverNew(data []byte, logs []logFile, checksumOK bool) ([]byte, error) {
	if !checksumOK {
		// The base block is restored from the newest log's copy.
		best := logs[0]
		for _, l := range logs[1:] {
			a, _ := l.logBase()
			b, _ := best.logBase()
			if a.seq1() > b.seq1() {
				best = l
			}
		}
		restoreBase(h.base, best)
	}
	bySeq := map[uint32]logEntry{}
	for _, l := range logs {
		for _, e := range l.entries() {
			bySeq[e.seq] = e // a later log wins for the same sequence number
		}
	}
	seqs := make([]uint32, 0, len(bySeq))
	for s := range bySeq {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	// Entries from the secondary sequence number on are applied: the
	// secondary number is the last write that completed, so the entry
	// carrying it may be only partly in the primary (re-applying pages is
	// harmless). The first such entry may follow the primary's number from
	// afar (the logs were reset since); after it, sequence numbers must be
	// consecutive: a gap means a lost entry, and recovery stops there.
	// A hive can only have grown by bytes the logs hold: a larger hive bins
	// size is bogus (and must not make us allocate gigabytes).
	limit := len(data)
	for _, l := range logs {
		limit += len(l.raw)
	}
	from := baseBlock{h.base}.seq2()
	// Pages are written over the primary's own buffer (the hive's, see
	// loadOwned): once an entry applies, the result is the recovered hive
	// whatever follows.
	buf := data
	applied := 0
	var last logEntry
	used := map[string]bool{}
	var next uint32
	for _, s := range seqs {
		if s < from {
			continue // already in the primary
		}
		if applied > 0 && s != next {
			break // a gap: later entries cannot be applied
		}
		e := bySeq[s]
		if int(e.binsSize) > limit {
			break
		}
		if int(e.binsSize) > len(buf) {
			buf = append(buf, make([]byte, int(e.binsSize)-len(buf))...)
		}
		for _, p := range e.pages {
			copy(buf[p.off:], p.data)
			h.recovery.DirtyPages++
		}
		buf = buf[:e.binsSize]
		used[e.log] = true
		applied++
		last = e
		next = s + 1
	}
	h.recovery.Format = "new"
	if applied == 0 {
		if !checksumOK {
			return nil, formatErr(508, "base block checksum is wrong and the transaction logs hold no entry to apply")
		}
		return data, nil
	}
	for _, l := range logs {
		if used[l.path] {
			h.recovery.Logs = append(h.recovery.Logs, l.path)
		}
	}
	h.recovery.Applied = true
	le.PutUint32(h.base[4:], last.seq)
	le.PutUint32(h.base[8:], last.seq)
	le.PutUint32(h.base[40:], last.binsSize)
	le.PutUint32(h.base[508:], xorChecksum(h.base))
	return buf, nil
}

func restoreBase(base []byte, l logFile) {
	copy(base[:512], l.raw[:512])
	le.PutUint32(base[28:], fileTypePrimary)
	le.PutUint32(base[508:], xorChecksum(base))
}

// recoverOld applies an old-format log (a DIRT bitmap of 512-byte pages)
// whose timestamp matches the primary's.
func (h *Hive) recoverOld(data []byte, logs []logFile, checksumOK bool) ([]byte, error) {
	h.recovery.Format = "old"
	primaryStamp := baseBlock{h.base}.timestamp()
	if !checksumOK && len(data) >= binHeaderSize && string(data[:4]) == "hbin" {
		primaryStamp = le.Uint64(data[20:])
	}
	var lastErr error
	for _, l := range logs {
		bb, _ := l.logBase()
		if bb.timestamp() != primaryStamp {
			lastErr = fmt.Errorf("transaction log %s: timestamp does not match the primary file", l.path)
			continue
		}
		buf, pages, err := applyDirt(data, l, bb)
		if err == nil {
			// The dirty bins must be bins where they were written;
			// otherwise this log is abandoned for the next one.
			err = binChainOK(buf)
		}
		if err != nil {
			lastErr = fmt.Errorf("transaction log %s: %w", l.path, err)
			continue
		}
		if !checksumOK {
			restoreBase(h.base, l)
		}
		h.recovery.Applied = true
		h.recovery.DirtyPages = pages
		h.recovery.Logs = []string{l.path}
		le.PutUint32(h.base[8:], baseBlock{h.base}.seq1())
		le.PutUint32(h.base[40:], bb.binsSize())
		le.PutUint32(h.base[508:], xorChecksum(h.base))
		return buf, nil
	}
	if !checksumOK {
		return nil, fmt.Errorf("base block checksum is wrong and no transaction log applies: %w", lastErr)
	}
	return data, nil
}

// applyDirt applies the dirty pages of an old-format log.
func applyDirt(data []byte, l logFile, bb baseBlock) ([]byte, int, error) {
	binsSize := int(bb.binsSize())
	if binsSize == 0 || binsSize%binAlign != 0 || binsSize > len(data)+len(l.raw) {
		return nil, 0, formatErr(40, "transaction log %s: hive bins data size %d is not a multiple of 4096 the primary and log can fill", l.path, binsSize)
	}
	if len(l.raw) < 1024 || string(l.raw[512:516]) != "DIRT" {
		return nil, 0, formatErr(512, "transaction log %s: no DIRT dirty vector", l.path)
	}
	bits := binsSize / 512
	bitmapEnd := 516 + (bits+7)/8
	if bitmapEnd > len(l.raw) {
		return nil, 0, formatErr(516, "transaction log %s: dirty vector of %d bits is truncated", l.path, bits)
	}
	bitmap := l.raw[516:bitmapEnd]
	pageOff := align(bitmapEnd, 512)
	buf := append([]byte(nil), data...)
	if len(buf) < binsSize {
		buf = append(buf, make([]byte, binsSize-len(buf))...)
	}
	buf = buf[:binsSize]
	pages := 0
	for i := 0; i < bits; i++ {
		if bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		src := pageOff + pages*512
		if src+512 > len(l.raw) {
			return nil, 0, formatErr(int64(src), "transaction log %s: dirty page %d is missing (log truncated)", l.path, pages)
		}
		copy(buf[i*512:], l.raw[src:src+512])
		pages++
	}
	return buf, pages, nil
}

// binChainOK checks that the hive bins data is a chain of hive bins, each
// at the offset it names.
func binChainOK(data []byte) error {
	off := 0
	for off < len(data) {
		if off+binHeaderSize > len(data) || string(data[off:off+4]) != "hbin" || int(le.Uint32(data[off+4:])) != off {
			return formatErr(int64(off+baseBlockSize), "no valid hive bin after recovery")
		}
		size := int(le.Uint32(data[off+8:]))
		if size < binAlign || size%binAlign != 0 || size > len(data)-off {
			return formatErr(int64(off+baseBlockSize+8), "hive bin size %d invalid after recovery", size)
		}
		off += size
	}
	return nil
}
