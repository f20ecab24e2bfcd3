package ntfs

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

// run maps length clusters from vcn to lcn (lcn < 0: sparse).
type run struct {
	vcn, lcn, length int64
}

// decodeRuns decodes the mapping pairs of one extent, starting at VCN
// start, checking each run against the volume's cluster count.
func (v *Volume) decodeRuns(rec int64, b []byte, start, last int64) ([]run, error) {
	var out []run
	vcn, lcn := start, int64(0)
	for i := 0; i < len(b) && b[i] != 0; {
		h := b[i]
		ln, on := int(h&15), int(h>>4)
		if ln == 0 || ln > 8 || on > 8 || i+1+ln+on > len(b) {
			return nil, corrupt(rec, "mapping pair at %d has header %#x", i, h)
		}
		length := int64(0)
		for k := ln - 1; k >= 0; k-- {
			length = length<<8 | int64(b[i+1+k])
		}
		if length <= 0 || length > v.clusters {
			return nil, corrupt(rec, "run of %d clusters (volume has %d)", length, v.clusters)
		}
		r := run{vcn: vcn, lcn: -1, length: length}
		if on > 0 {
			d := int64(int8(b[i+ln+on])) // sign from the top byte
			for k := on - 2; k >= 0; k-- {
				d = d<<8 | int64(b[i+1+ln+k])
			}
			lcn += d
			if lcn < 0 || lcn+length > v.clusters {
				return nil, corrupt(rec, "run at cluster %d+%d lies outside the volume (%d clusters)", lcn, length, v.clusters)
			}
			r.lcn = lcn
		}
		out = append(out, r)
		vcn += length
		if vcn-1 > last {
			return nil, corrupt(rec, "runs reach VCN %d past the extent's last VCN %d", vcn-1, last)
		}
		i += 1 + ln + on
	}
	return out, nil
}

// stream reads one attribute's value: resident bytes, or clusters through
// its runs, sparse runs and the part past the initialized size reading as
// zeros, compressed units decompressed with LZNT1.
type stream struct {
	v        *Volume
	rec      int64
	resident []byte
	runs     []run
	size     int64
	initSize int64
	cuSize   int64 // compression unit in bytes; 0 when not compressed

	mu     sync.Mutex
	cuVCN  int64
	cuData []byte
}

func (v *Volume) newStream(rec int64, ext []attr) (*stream, error) {
	if len(ext) == 0 {
		return nil, corrupt(rec, "no attribute to read")
	}
	first := ext[0]
	s := &stream{v: v, rec: rec, size: first.dataSize, initSize: first.initSize, cuVCN: -1}
	if first.resident {
		s.resident = first.value
		s.size, s.initSize = int64(len(first.value)), int64(len(first.value))
		return s, nil
	}
	if first.flags&flagEncrypted != 0 {
		return nil, corrupt(rec, "stream is EFS-encrypted")
	}
	if first.startVCN != 0 {
		return nil, corrupt(rec, "first extent starts at VCN %d", first.startVCN)
	}
	if first.flags&flagCompressed != 0 && first.cuShift > 0 {
		if first.cuShift > 8 {
			return nil, corrupt(rec, "compression unit of 2^%d clusters", first.cuShift)
		}
		s.cuSize = v.clusterSize << first.cuShift
	}
	next := int64(0)
	for _, e := range ext {
		if e.resident || e.startVCN != next {
			return nil, corrupt(rec, "extent starting at VCN %d does not follow VCN %d", e.startVCN, next)
		}
		rs, err := v.decodeRuns(rec, e.runs, e.startVCN, e.lastVCN)
		if err != nil {
			return nil, err
		}
		if len(s.runs)+len(rs) > 1<<20 {
			return nil, corrupt(rec, "more than 2^20 runs")
		}
		s.runs = append(s.runs, rs...)
		next = e.lastVCN + 1
	}
	if s.size < 0 || s.initSize > s.size {
		s.initSize = s.size
	}
	// Bytes past the mapped clusters cannot be read: a size claiming more
	// than the runs cover is corrupt (a sparse file claiming terabytes is
	// fine: its sparse runs cover it).
	if mapped := next * v.clusterSize; s.initSize > mapped {
		return nil, corrupt(rec, "stream initialized to %d bytes but its runs map %d", s.initSize, mapped)
	}
	return s, nil
}

// Size returns the stream's length.
func (s *stream) Size() int64 { return s.size }

func (s *stream) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("ntfs: negative offset")
	}
	if off >= s.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > s.size-off {
		p = p[:s.size-off]
		eof = io.EOF
	}
	n := len(p)
	if s.resident != nil || s.size == 0 {
		copy(p, s.resident[off:])
		return n, eof
	}
	// Past the initialized size: zeros.
	if off+int64(len(p)) > s.initSize {
		z := s.initSize - off
		if z < 0 {
			z = 0
		}
		clear(p[z:])
		p = p[:z]
	}
	for len(p) > 0 {
		var k int
		var err error
		if s.cuSize > 0 {
			k, err = s.readCompressed(p, off)
		} else {
			k, err = s.readPlain(p, off)
		}
		if err != nil {
			return 0, err
		}
		p = p[k:]
		off += int64(k)
	}
	return n, eof
}

// findRun returns the index of the run holding vcn, or -1.
func (s *stream) findRun(vcn int64) int {
	lo, hi := 0, len(s.runs)
	for lo < hi {
		m := (lo + hi) / 2
		r := s.runs[m]
		switch {
		case vcn < r.vcn:
			hi = m
		case vcn >= r.vcn+r.length:
			lo = m + 1
		default:
			return m
		}
	}
	return -1
}

func (s *stream) readPlain(p []byte, off int64) (int, error) {
	cs := s.v.clusterSize
	vcn := off / cs
	i := s.findRun(vcn)
	if i < 0 {
		return 0, corrupt(s.rec, "offset %d lies in no run", off)
	}
	r := s.runs[i]
	end := (r.vcn + r.length) * cs
	n := int64(len(p))
	if n > end-off {
		n = end - off
	}
	if r.lcn < 0 {
		clear(p[:n])
		return int(n), nil
	}
	at := (r.lcn+vcn-r.vcn)*cs + off%cs
	k, err := s.v.r.ReadAt(p[:n], at)
	if int64(k) < n {
		return 0, fmt.Errorf("ntfs: MFT record %d: reading cluster %d: %w", s.rec, at/cs, orEOF(err))
	}
	return int(n), nil
}

// readCompressed reads within one compression unit: a unit whose clusters
// are all allocated is stored plainly; one that is wholly sparse is zeros;
// otherwise its allocated clusters hold LZNT1 data.
func (s *stream) readCompressed(p []byte, off int64) (int, error) {
	cs := s.v.clusterSize
	unit := off / s.cuSize
	startVCN := unit * s.cuSize / cs
	units := s.cuSize / cs
	in := off % s.cuSize
	n := s.cuSize - in
	if n > int64(len(p)) {
		n = int64(len(p))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cuVCN != startVCN {
		data, err := s.loadUnit(startVCN, units)
		if err != nil {
			return 0, err
		}
		s.cuVCN, s.cuData = startVCN, data
	}
	if s.cuData == nil {
		clear(p[:n])
	} else {
		copy(p[:n], s.cuData[in:])
	}
	return int(n), nil
}

func (s *stream) loadUnit(vcn, units int64) ([]byte, error) {
	cs := s.v.clusterSize
	var alloc int64
	for c := vcn; c < vcn+units; {
		i := s.findRun(c)
		if i < 0 {
			break // past the mapped runs: the rest reads as sparse
		}
		r := s.runs[i]
		k := r.vcn + r.length - c
		if k > vcn+units-c {
			k = vcn + units - c
		}
		if r.lcn >= 0 {
			alloc += k
		}
		c += k
	}
	if alloc == 0 {
		return nil, nil
	}
	raw := make([]byte, alloc*cs)
	tmp := &stream{v: s.v, rec: s.rec, runs: s.runs, size: (vcn + alloc) * cs, initSize: (vcn + alloc) * cs}
	for k := int64(0); k < alloc; {
		m, err := tmp.readPlain(raw[k*cs:], (vcn+k)*cs)
		if err != nil {
			return nil, err
		}
		k += int64(m) / cs
		if m == 0 {
			break
		}
	}
	if alloc == units {
		return raw, nil
	}
	out := make([]byte, s.cuSize)
	if _, err := lznt1Decompress(out, raw); err != nil {
		return nil, corrupt(s.rec, "compression unit at VCN %d: %v", vcn, err)
	}
	return out, nil
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
