package disk

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// qcow2 reads QEMU's qcow2 format, versions 2 and 3, following QEMU's
// docs/interop/qcow2.txt: two-level L1/L2 cluster tables, zero clusters,
// deflate-compressed clusters and a backing file. Refcounts and snapshots
// are not needed for reading the active image and are ignored.
type qcow2 struct {
	f           readerAtCloser
	name        string
	fileSize    int64
	size        int64
	clusterBits uint
	clusterSize int64
	l1          []uint64
	l1Offset    int64
	backing     Image // nil: unallocated clusters read as zeros
	l2Cache     *blockCache
	zCache      *blockCache
}

const (
	qcowMagic         = "QFI\xfb"
	qcowOffsetMask    = 0x00fffffffffffe00 // bits 9-55
	qcowCompressedBit = 1 << 62
	qcowZeroBit       = 1
	// Caches: L2 tables and decompressed clusters, each bounded in bytes.
	qcowL2CacheBytes = 32 << 20
	qcowZCacheBytes  = 8 << 20
	// An L1 table larger than this is refused (it covers 2^30 clusters of
	// 2^21 bytes — far beyond any real disk — at 8 MiB of memory).
	qcowMaxL1Entries = 1 << 20
)

// Incompatible feature bits (version 3).
const (
	qcowIncompatDirty       = 1 << 0
	qcowIncompatCorrupt     = 1 << 1
	qcowIncompatExternal    = 1 << 2
	qcowIncompatCompression = 1 << 3
	qcowIncompatExtendedL2  = 1 << 4
)

func openQcow2(f readerAtCloser, fileSize int64, name string, open backingOpener) (Image, error) {
	var h [112]byte
	n, _ := f.ReadAt(h[:], 0)
	if n < 72 {
		return nil, formatErr(name, 0, "qcow2 header: file ends after %d bytes (truncated image?)", n)
	}
	be := binary.BigEndian
	if string(h[:4]) != qcowMagic {
		return nil, formatErr(name, 0, "not a qcow2 image")
	}
	version := be.Uint32(h[4:])
	if version != 2 && version != 3 {
		return nil, unsupported(name, "qcow2 version %d (2 and 3 are read)", version)
	}
	q := &qcow2{f: f, name: name, fileSize: fileSize}
	backingOff := int64(be.Uint64(h[8:]))
	backingLen := be.Uint32(h[16:])
	clusterBits := be.Uint32(h[20:])
	q.size = int64(be.Uint64(h[24:]))
	crypt := be.Uint32(h[32:])
	l1Size := be.Uint32(h[36:])
	q.l1Offset = int64(be.Uint64(h[40:]))
	headerLen := uint32(72)
	if version == 3 {
		if n < 104 {
			return nil, formatErr(name, 0, "qcow2 v3 header: file ends after %d bytes", n)
		}
		incompat := be.Uint64(h[72:])
		headerLen = be.Uint32(h[100:])
		if headerLen < 104 || int64(headerLen) > fileSize || headerLen > 1<<16 {
			return nil, formatErr(name, 100, "qcow2 header length %d is invalid", headerLen)
		}
		if incompat&qcowIncompatCorrupt != 0 {
			return nil, unsupported(name, "qcow2 image is marked corrupt (run qemu-img check -r all on a copy)")
		}
		if incompat&qcowIncompatExternal != 0 {
			return nil, unsupported(name, "qcow2 image keeps its data in an external file")
		}
		if incompat&qcowIncompatExtendedL2 != 0 {
			return nil, unsupported(name, "qcow2 extended L2 entries (subclusters)")
		}
		if incompat&qcowIncompatCompression != 0 {
			ct := byte(0)
			if headerLen > 104 && n > 104 {
				ct = h[104]
			}
			if ct != 0 {
				return nil, unsupported(name, "qcow2 compression type %d (only deflate is read; convert with qemu-img convert -O qcow2 -o compression_type=zlib)", ct)
			}
		}
		if unknown := incompat &^ (qcowIncompatDirty | qcowIncompatCorrupt | qcowIncompatExternal | qcowIncompatCompression | qcowIncompatExtendedL2); unknown != 0 {
			return nil, unsupported(name, "qcow2 incompatible feature bits %#x", unknown)
		}
		// The dirty bit only says refcounts may be stale; reading ignores them.
	}
	if crypt != 0 {
		return nil, unsupported(name, "qcow2 image is encrypted (method %d)", crypt)
	}
	if clusterBits < 9 || clusterBits > 21 {
		return nil, formatErr(name, 20, "qcow2 cluster_bits %d outside 9..21", clusterBits)
	}
	q.clusterBits = uint(clusterBits)
	q.clusterSize = 1 << clusterBits
	if q.size < 0 || q.size > 1<<56 {
		return nil, formatErr(name, 24, "qcow2 virtual size %d is out of range", q.size)
	}
	l2Entries := q.clusterSize / 8
	need := (q.size + q.clusterSize*l2Entries - 1) / (q.clusterSize * l2Entries)
	if int64(l1Size) < need {
		return nil, formatErr(name, 36, "qcow2 L1 table has %d entries, the virtual size needs %d", l1Size, need)
	}
	if l1Size > qcowMaxL1Entries {
		return nil, formatErr(name, 36, "qcow2 L1 table of %d entries exceeds the budget of %d", l1Size, qcowMaxL1Entries)
	}
	// Only the entries the virtual size needs are read; the rest are unused.
	l1Size = uint32(need)
	if q.l1Offset%q.clusterSize != 0 || q.l1Offset <= 0 && l1Size > 0 || q.l1Offset+int64(l1Size)*8 > fileSize {
		return nil, formatErr(name, 40, "qcow2 L1 table at %d (%d entries) lies outside the file of %d bytes or is unaligned", q.l1Offset, l1Size, fileSize)
	}
	raw := make([]byte, int(l1Size)*8)
	if err := readFull(f, raw, q.l1Offset, name, "qcow2 L1 table"); err != nil {
		return nil, err
	}
	q.l1 = make([]uint64, l1Size)
	for i := range q.l1 {
		q.l1[i] = be.Uint64(raw[i*8:])
	}
	q.l2Cache = newBlockCache(qcowL2CacheBytes)
	q.zCache = newBlockCache(qcowZCacheBytes)

	backingFormat := ""
	if err := q.readExtensions(int64(headerLen), &backingFormat); err != nil {
		return nil, err
	}
	if backingOff != 0 {
		if backingLen == 0 || backingLen > 1023 || backingOff < 0 || backingOff+int64(backingLen) > q.clusterSize || backingOff+int64(backingLen) > fileSize {
			return nil, formatErr(name, 8, "qcow2 backing file name (%d bytes at %d) is invalid", backingLen, backingOff)
		}
		nameBuf := make([]byte, backingLen)
		if err := readFull(f, nameBuf, backingOff, name, "qcow2 backing file name"); err != nil {
			return nil, err
		}
		bf := string(nameBuf)
		if open == nil {
			return nil, unsupported(name, "qcow2 backing file %q cannot be opened from a stream", bf)
		}
		// Follow a backing file only when it sits beside the image: a
		// name reaching elsewhere (absolute, or with a directory part) is
		// refused rather than read from wherever it points.
		if bf != filepath.Base(bf) || strings.ContainsAny(bf, `/\`) || bf == "." || bf == ".." || strings.Contains(bf, ":") {
			return nil, unsupported(name, "qcow2 backing file %q is not beside the image; only a backing file in the same directory is followed", bf)
		}
		switch backingFormat {
		case "", "qcow2", "raw", "vpc", "vhdx":
		default:
			return nil, unsupported(name, "qcow2 backing file %q has format %q", bf, backingFormat)
		}
		b, err := open(filepath.Join(filepath.Dir(name), bf), backingFormat)
		if err != nil {
			return nil, fmt.Errorf("%s: backing file: %w", name, err)
		}
		q.backing = b
	}
	return q, nil
}

// readExtensions reads the header extensions after the fixed header, keeping
// the backing file format.
func (q *qcow2) readExtensions(off int64, backingFormat *string) error {
	be := binary.BigEndian
	end := q.clusterSize
	for i := 0; i < 64 && off+8 <= end; i++ {
		var eh [8]byte
		if err := readFull(q.f, eh[:], off, q.name, "qcow2 header extension"); err != nil {
			return err
		}
		typ, length := be.Uint32(eh[:]), int64(be.Uint32(eh[4:]))
		if typ == 0 {
			return nil
		}
		if off+8+length > end {
			return formatErr(q.name, off, "qcow2 header extension %#x of %d bytes runs past the first cluster", typ, length)
		}
		switch typ {
		case 0xe2792aca: // backing file format name
			if length > 64 {
				return formatErr(q.name, off, "qcow2 backing format name of %d bytes", length)
			}
			b := make([]byte, length)
			if err := readFull(q.f, b, off+8, q.name, "qcow2 backing format"); err != nil {
				return err
			}
			*backingFormat = string(b)
		case 0x0537be77: // full disk encryption header
			return unsupported(q.name, "qcow2 image is encrypted")
		}
		off += 8 + (length+7)&^7
	}
	return nil
}

func (q *qcow2) Size() int64    { return q.size }
func (q *qcow2) Format() string { return "qcow2" }
func (q *qcow2) Close() error {
	err := q.f.Close()
	if q.backing != nil {
		if e := q.backing.Close(); err == nil {
			err = e
		}
	}
	return err
}

func (q *qcow2) ReadAt(p []byte, off int64) (int, error) {
	return readBounded(p, off, q.size, func(buf []byte, start int64) error {
		// Clusters whose data lie one after the other in the file are read
		// with one read, as images converted or written sequentially have them.
		runFrom, runLen, runHost := 0, 0, int64(0)
		flush := func() error {
			if runLen == 0 {
				return nil
			}
			err := q.readHost(buf[runFrom:runFrom+runLen], runHost)
			runLen = 0
			return err
		}
		for pos := 0; pos < len(buf); {
			off := start + int64(pos)
			inCluster := off & (q.clusterSize - 1)
			n := int(min(q.clusterSize-inCluster, int64(len(buf)-pos)))
			host, err := q.dataCluster(off)
			if err != nil {
				return err
			}
			switch {
			case host > 0 && runLen > 0 && runHost+int64(runLen) == host+inCluster:
				runLen += n
			case host > 0:
				if err := flush(); err != nil {
					return err
				}
				runFrom, runLen, runHost = pos, n, host+inCluster
			default:
				if err := flush(); err != nil {
					return err
				}
				if err := q.readCluster(buf[pos:pos+n], off); err != nil {
					return err
				}
			}
			pos += n
		}
		return flush()
	})
}

// readHost reads file bytes at host; what lies past the end of the file
// (a short last cluster) reads as zeros.
func (q *qcow2) readHost(p []byte, host int64) error {
	n, err := q.f.ReadAt(p, host)
	if n < len(p) {
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: offset %d: %w", q.name, host, err)
		}
		clear(p[n:])
	}
	return nil
}

// dataCluster returns the host offset of the guest cluster holding off
// when it is a plain allocated cluster, else 0 (zero, unallocated or
// compressed clusters are read by readCluster).
func (q *qcow2) dataCluster(off int64) (int64, error) {
	cluster := off >> q.clusterBits
	l2Bits := q.clusterBits - 3
	l1Index := cluster >> l2Bits
	l2Index := cluster & (1<<l2Bits - 1)
	if l1Index >= int64(len(q.l1)) {
		return 0, nil
	}
	l2Off := int64(q.l1[l1Index] & qcowOffsetMask)
	if l2Off == 0 {
		return 0, nil
	}
	t, err := q.l2Table(l2Off, int(l1Index))
	if err != nil {
		return 0, err
	}
	e := binary.BigEndian.Uint64(t[l2Index*8:])
	if e&qcowCompressedBit != 0 || e&qcowZeroBit != 0 {
		return 0, nil
	}
	host := int64(e & qcowOffsetMask)
	if host == 0 {
		return 0, nil
	}
	if host%q.clusterSize != 0 || host >= q.fileSize || host < q.clusterSize {
		return 0, formatErr(q.name, l2Off+l2Index*8, "qcow2 L2 entry: data cluster at %d is unaligned, inside the header or beyond the file (%d bytes)", host, q.fileSize)
	}
	return host, nil
}

// l2Table returns the L2 table at host offset off, checked and cached.
func (q *qcow2) l2Table(off int64, l1Index int) ([]byte, error) {
	if t, ok := q.l2Cache.get(off); ok {
		return t, nil
	}
	// An L2 table must be a whole cluster inside the file, and never the
	// header or the L1 table itself (a table pointing at the metadata that
	// leads to it is a cycle, not data).
	l1End := q.l1Offset + int64(len(q.l1))*8
	switch {
	case off%q.clusterSize != 0:
		return nil, formatErr(q.name, q.l1Offset+int64(l1Index)*8, "qcow2 L1 entry %d: L2 table offset %d is not cluster aligned", l1Index, off)
	case off+q.clusterSize > q.fileSize:
		return nil, formatErr(q.name, q.l1Offset+int64(l1Index)*8, "qcow2 L1 entry %d: L2 table at %d lies beyond the end of the file (%d bytes)", l1Index, off, q.fileSize)
	case off < q.clusterSize:
		return nil, formatErr(q.name, q.l1Offset+int64(l1Index)*8, "qcow2 L1 entry %d: L2 table points at the header (cycle)", l1Index)
	case off < l1End && off+q.clusterSize > q.l1Offset:
		return nil, formatErr(q.name, q.l1Offset+int64(l1Index)*8, "qcow2 L1 entry %d: L2 table overlaps the L1 table (cycle)", l1Index)
	}
	t := make([]byte, q.clusterSize)
	if err := readFull(q.f, t, off, q.name, "qcow2 L2 table"); err != nil {
		return nil, err
	}
	q.l2Cache.put(off, t)
	return t, nil
}

func (q *qcow2) readCluster(p []byte, off int64) error {
	cluster := off >> q.clusterBits
	l2Bits := q.clusterBits - 3
	l1Index := cluster >> l2Bits
	l2Index := cluster & (1<<l2Bits - 1)
	inCluster := off & (q.clusterSize - 1)
	if l1Index >= int64(len(q.l1)) {
		return formatErr(q.name, -1, "qcow2: offset %d beyond the L1 table", off)
	}
	l2Off := int64(q.l1[l1Index] & qcowOffsetMask)
	if l2Off == 0 {
		return q.unallocated(p, off)
	}
	t, err := q.l2Table(l2Off, int(l1Index))
	if err != nil {
		return err
	}
	entryPos := l2Off + l2Index*8
	e := binary.BigEndian.Uint64(t[l2Index*8:])
	if e&qcowCompressedBit != 0 {
		data, err := q.compressedCluster(e, entryPos)
		if err != nil {
			return err
		}
		copy(p, data[inCluster:])
		return nil
	}
	if e&qcowZeroBit != 0 {
		clear(p)
		return nil
	}
	host := int64(e & qcowOffsetMask)
	if host == 0 {
		return q.unallocated(p, off)
	}
	if host%q.clusterSize != 0 || host >= q.fileSize || host < q.clusterSize {
		return formatErr(q.name, entryPos, "qcow2 L2 entry: data cluster at %d is unaligned, inside the header or beyond the file (%d bytes)", host, q.fileSize)
	}
	// The last cluster of a file may be short; what lies past the end reads as zeros.
	n, err := q.f.ReadAt(p, host+inCluster)
	if n < len(p) {
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: offset %d: %w", q.name, host+inCluster, err)
		}
		clear(p[n:])
	}
	return nil
}

func (q *qcow2) unallocated(p []byte, off int64) error {
	if q.backing == nil {
		clear(p)
		return nil
	}
	n, err := q.backing.ReadAt(p, off)
	if n < len(p) {
		// A backing file smaller than the overlay reads as zeros past its end.
		if err != nil && err != io.EOF {
			return err
		}
		clear(p[n:])
	}
	return nil
}

// compressedCluster inflates the compressed cluster that L2 entry e
// describes, caching the result.
func (q *qcow2) compressedCluster(e uint64, entryPos int64) ([]byte, error) {
	x := 62 - (q.clusterBits - 8)
	host := int64(e & (1<<x - 1))
	sectors := int64((e>>x)&(1<<(62-x)-1)) + 1
	if d, ok := q.zCache.get(host); ok {
		return d, nil
	}
	length := sectors*512 - host&511
	if host <= 0 || host >= q.fileSize || length <= 0 {
		return nil, formatErr(q.name, entryPos, "qcow2 L2 entry: compressed cluster at %d (%d bytes) is outside the file", host, length)
	}
	if host+length > q.fileSize {
		length = q.fileSize - host // the image may end inside the last sector
	}
	if length > 2*q.clusterSize+512 {
		return nil, formatErr(q.name, entryPos, "qcow2 L2 entry: compressed cluster of %d bytes exceeds twice the cluster size", length)
	}
	comp := make([]byte, length)
	if err := readFull(q.f, comp, host, q.name, "qcow2 compressed cluster"); err != nil {
		return nil, err
	}
	out := make([]byte, q.clusterSize)
	zr := flate.NewReader(bytes.NewReader(comp))
	n, err := io.ReadFull(zr, out)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, formatErr(q.name, host, "qcow2 compressed cluster: %v", err)
	}
	if err == io.ErrUnexpectedEOF && n == 0 {
		return nil, formatErr(q.name, host, "qcow2 compressed cluster inflates to nothing")
	}
	clear(out[n:])
	q.zCache.put(host, out)
	return out, nil
}
