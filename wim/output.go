package wim

import (
	"fmt"
	"os"
)

// outFile writes the WIM sequentially through a buffer, and can go back:
// to patch a chunk table once the chunks are written, or to drop a blob that
// turned out to be a duplicate.
type outFile struct {
	f   *os.File
	buf []byte
	pos int64 // logical end: where the next Write lands
	max int64 // the largest end ever written
}

func newOutFile(f *os.File, pos int64) *outFile {
	return &outFile{f: f, buf: make([]byte, 0, 1<<20), pos: pos, max: pos}
}

func (o *outFile) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(o.buf) == cap(o.buf) {
			if err := o.flush(); err != nil {
				return 0, err
			}
		}
		k := copy(o.buf[len(o.buf):cap(o.buf)], p)
		o.buf = o.buf[:len(o.buf)+k]
		p = p[k:]
		o.pos += int64(k)
	}
	o.max = max(o.max, o.pos)
	return n, nil
}

func (o *outFile) flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	start := o.pos - int64(len(o.buf))
	if _, err := o.f.WriteAt(o.buf, start); err != nil {
		return fmt.Errorf("write %s at offset %d: %w", o.f.Name(), start, err)
	}
	o.buf = o.buf[:0]
	return nil
}

// rewind makes pos the new end for the following writes.
func (o *outFile) rewind(pos int64) error {
	if err := o.flush(); err != nil {
		return err
	}
	o.pos = pos
	return nil
}

// patch overwrites bytes already written.
func (o *outFile) patch(b []byte, at int64) error {
	if err := o.flush(); err != nil {
		return err
	}
	if _, err := o.f.WriteAt(b, at); err != nil {
		return fmt.Errorf("write %s at offset %d: %w", o.f.Name(), at, err)
	}
	return nil
}

// finish flushes and cuts the file at the logical end.
func (o *outFile) finish() error {
	if err := o.flush(); err != nil {
		return err
	}
	return o.f.Truncate(o.pos)
}
