package hive

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/reseal/reseal/internal/atomicfile"
)

// cleanBase returns the base block of the hive as it is written: both
// sequence numbers set to seq, hive bins size and checksum up to date.
func (h *Hive) cleanBase(seq uint32) []byte {
	b := append([]byte(nil), h.base...)
	stamp := timeToFiletime(h.now())
	le.PutUint32(b[4:], seq)
	le.PutUint32(b[8:], seq)
	le.PutUint64(b[12:], stamp)
	le.PutUint32(b[28:], fileTypePrimary)
	le.PutUint32(b[32:], 1)
	le.PutUint32(b[40:], uint32(len(h.data)))
	clear(b[4088:]) // boot type and boot recover mean nothing on disk
	le.PutUint32(b[508:], xorChecksum(b))
	if len(h.data) >= binHeaderSize {
		le.PutUint64(h.data[20:], stamp) // the first bin keeps a copy of the timestamp
	}
	return b
}

// nextSeq is the sequence number of the next write: above the primary's and
// above every sequence number found in the logs beside it, so that no
// stale log entry can ever count as following the committed hive.
func (h *Hive) nextSeq() uint32 {
	bb := baseBlock{h.base}
	return max(bb.seq1(), bb.seq2(), h.maxLogSeq) + 1
}

// WriteTo writes the hive, clean, to w.
func (h *Hive) WriteTo(w io.Writer) (int64, error) {
	if h.closed {
		return 0, errClosed
	}
	base := h.cleanBase(h.nextSeq())
	n, err := w.Write(base)
	if err != nil {
		return int64(n), err
	}
	m, err := w.Write(h.data)
	if err != nil {
		return int64(n + m), err
	}
	h.base = base
	return int64(n + m), nil
}

// Commit writes the hive back to the file it was opened from, atomically
// (temporary file in the same directory, synced, renamed), clean, and then
// empties the transaction logs beside it; see SaveAs.
func (h *Hive) Commit() error {
	if h.closed {
		return errClosed
	}
	if h.readOnly {
		return fmt.Errorf("commit %s: %w", h.path, ErrReadOnly)
	}
	if h.path == "" {
		return errors.New("hive: Commit needs a hive opened from a file; use SaveAs")
	}
	return h.SaveAs(h.path)
}

// SaveAs atomically writes the clean hive to path. Transaction logs found
// beside path (.LOG, .LOG1, .LOG2 in any letter case) are then atomically
// replaced by empty files, the state Windows itself leaves them in after a
// clean flush: together with a sequence number above every one the logs
// held, no stale log entry can be replayed over the new hive.
func (h *Hive) SaveAs(path string) error {
	if h.closed {
		return errClosed
	}
	// The logs beside the target count too: the hive may have been opened
	// with NoLogs, or be saved over another hive.
	seq := max(h.nextSeq(), h.logSeqBeside(path)+1)
	base := h.cleanBase(seq)
	err := atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		if _, err := w.Write(base); err != nil {
			return err
		}
		_, err := w.Write(h.data)
		return err
	})
	if err != nil {
		return fmt.Errorf("save hive: %w", err)
	}
	h.base = base
	return emptyLogs(path)
}

// openLog is a log read at Open and the highest sequence number it held.
type openLog struct {
	stat   logStat
	maxSeq uint32
}

// logSeqBeside returns the highest sequence number held by the logs beside
// path (0 if none). A log read at Open that still has the same size and
// modification time is not read again (a commit of a dirty SYSTEM would
// otherwise read and hash its megabytes of logs twice).
func (h *Hive) logSeqBeside(path string) uint32 {
	stats, err := listLogs(path)
	if err != nil {
		return 0
	}
	var seq uint32
next:
	for _, st := range stats {
		for _, o := range h.openLogs {
			if o.stat.path == st.path && o.stat.size == st.size && o.stat.mod.Equal(st.mod) {
				seq = max(seq, o.maxSeq)
				continue next
			}
		}
		raw, err := readLog(st.path)
		if err != nil {
			continue
		}
		seq = max(seq, logFile{path: st.path, raw: raw}.maxSeq())
	}
	return seq
}

// emptyLogs replaces every transaction log beside path with an empty file.
func emptyLogs(path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("empty transaction logs: %w", err)
	}
	for _, e := range ents {
		name := strings.ToUpper(e.Name())
		for _, suf := range logSuffixes {
			if name != strings.ToUpper(base+suf) || !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if err != nil || info.Size() == 0 {
				continue
			}
			if err := atomicfile.WriteBytes(filepath.Join(dir, e.Name()), 0o644, nil); err != nil {
				return fmt.Errorf("empty transaction log: %w", err)
			}
		}
	}
	return nil
}
