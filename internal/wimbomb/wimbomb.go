// Package wimbomb writes the crafted WIMs of the memory-budget tests:
// small files (XPRESS-compressed runs of identical chunks) whose metadata or
// XML claim, and really decompress to, far more than any real WIM holds.
// The bytes are laid out here by hand from Microsoft's WIM documentation
// (the 208-byte header, 24-byte resource headers, 50-byte blob table
// entries, chunk tables, directory entries), independently of package wim,
// so that the reader is not tested against its own writer. Test use only.
package wimbomb

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"os"
	"unicode/utf16"

	"github.com/reseal/reseal/wim/xpress"
)

const (
	headerSize = 208
	chunkSize  = 32 << 10
	// header flags: compressed, XPRESS
	hdrFlags = 0x2 | 0x20000
	// resource flags
	resMetadata   = 0x02
	resCompressed = 0x04
)

// content produces the uncompressed bytes of a resource, chunk by chunk:
// fill(off, buf) writes the bytes at off. The bytes in [lo, hi) repeat
// with a period that divides the chunk size: the whole chunks inside are
// all alike, made and compressed once.
type content struct {
	size   int64
	fill   func(off int64, buf []byte)
	lo, hi int64
}

type resHeader struct {
	stored int64
	flags  byte
	offset int64
	orig   int64
}

func (h resHeader) put(b []byte) {
	binary.LittleEndian.PutUint64(b[0:], uint64(h.stored)|uint64(h.flags)<<56)
	binary.LittleEndian.PutUint64(b[8:], uint64(h.offset))
	binary.LittleEndian.PutUint64(b[16:], uint64(h.orig))
}

// writeCompressed writes c at off in f as a compressed chunked resource
// and returns its header (without flags) and the SHA-1 of its contents.
func writeCompressed(f *os.File, off int64, c content) (resHeader, [20]byte, error) {
	comp, err := xpress.NewCompressor(chunkSize)
	if err != nil {
		return resHeader{}, [20]byte{}, err
	}
	n := (c.size + chunkSize - 1) / chunkSize
	entry := int64(4)
	if c.size > 0xffffffff {
		entry = 8
	}
	table := make([]byte, (n-1)*entry)
	h := sha1.New()
	raw := make([]byte, chunkSize)
	out := make([]byte, chunkSize)
	var middle, middleOut []byte
	pos := off + int64(len(table))
	var data int64 // bytes of chunk data so far
	var pending bytes.Buffer
	flush := func() error {
		_, err := f.WriteAt(pending.Bytes(), pos)
		pos += int64(pending.Len())
		pending.Reset()
		return err
	}
	for i := int64(0); i < n; i++ {
		start := i * chunkSize
		ln := min(chunkSize, c.size-start)
		buf := raw[:ln]
		var stored []byte
		alike := ln == chunkSize && start >= c.lo && start+ln <= c.hi
		if alike && middle != nil {
			buf, stored = middle, middleOut
		} else {
			c.fill(start, buf)
			k := comp.Compress(out[:ln-1], buf)
			if k == 0 {
				stored = buf
			} else {
				stored = out[:k]
			}
			if alike {
				middle, middleOut = append([]byte(nil), buf...), append([]byte(nil), stored...)
			}
		}
		h.Write(buf)
		if i > 0 {
			if entry == 4 {
				binary.LittleEndian.PutUint32(table[(i-1)*4:], uint32(data))
			} else {
				binary.LittleEndian.PutUint64(table[(i-1)*8:], uint64(data))
			}
		}
		pending.Write(stored)
		data += int64(len(stored))
		if pending.Len() > 1<<20 {
			if err := flush(); err != nil {
				return resHeader{}, [20]byte{}, err
			}
		}
	}
	if err := flush(); err != nil {
		return resHeader{}, [20]byte{}, err
	}
	if _, err := f.WriteAt(table, off); err != nil {
		return resHeader{}, [20]byte{}, err
	}
	var sum [20]byte
	h.Sum(sum[:0])
	return resHeader{stored: int64(len(table)) + data, offset: off, orig: c.size}, sum, nil
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, v := range u {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

// simpleXML is the XML data of a one-image WIM.
func simpleXML() []byte {
	return append([]byte{0xff, 0xfe}, utf16le(`<WIM><TOTALBYTES>0</TOTALBYTES><IMAGE INDEX="1"><NAME>bomb</NAME><DIRCOUNT>0</DIRCOUNT><FILECOUNT>0</FILECOUNT><TOTALBYTES>0</TOTALBYTES></IMAGE></WIM>`)...)
}

// write lays out a WIM: header, metadata resource, blob table, XML.
func write(path string, meta content, xml content, xmlCompressed bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	mres, msum, err := writeCompressed(f, headerSize, meta)
	if err != nil {
		return err
	}
	mres.flags = resMetadata | resCompressed
	// A metadata resource that did not compress is still marked compressed:
	// every chunk is then stored raw, which readers accept.
	btOff := mres.offset + mres.stored
	entry := make([]byte, 50)
	mres.put(entry[0:24])
	binary.LittleEndian.PutUint16(entry[24:], 1)
	binary.LittleEndian.PutUint32(entry[26:], 1)
	copy(entry[30:], msum[:])
	if _, err := f.WriteAt(entry, btOff); err != nil {
		return err
	}
	xmlOff := btOff + 50
	var xres resHeader
	if xmlCompressed {
		if xres, _, err = writeCompressed(f, xmlOff, xml); err != nil {
			return err
		}
		xres.flags = resCompressed
	} else {
		buf := make([]byte, xml.size)
		xml.fill(0, buf)
		if _, err := f.WriteAt(buf, xmlOff); err != nil {
			return err
		}
		xres = resHeader{stored: xml.size, offset: xmlOff, orig: xml.size}
	}
	hdr := make([]byte, headerSize)
	copy(hdr, "MSWIM\x00\x00\x00")
	binary.LittleEndian.PutUint32(hdr[8:], headerSize)
	binary.LittleEndian.PutUint32(hdr[12:], 0x10d00)
	binary.LittleEndian.PutUint32(hdr[16:], hdrFlags)
	binary.LittleEndian.PutUint32(hdr[20:], chunkSize)
	rand.Read(hdr[24:40])
	binary.LittleEndian.PutUint16(hdr[40:], 1) // part 1
	binary.LittleEndian.PutUint16(hdr[42:], 1) // of 1
	binary.LittleEndian.PutUint32(hdr[44:], 1) // one image
	resHeader{stored: 50, offset: btOff, orig: 50}.put(hdr[48:])
	xres.put(hdr[72:])
	if _, err := f.WriteAt(hdr, 0); err != nil {
		return err
	}
	return f.Close()
}

func bytesContent(b []byte) content {
	return content{size: int64(len(b)), fill: func(off int64, buf []byte) { copy(buf, b[off:]) }}
}

// dentry returns a directory entry of length n (a multiple of 8, at least
// 104 + the name) with the given attributes, name and subdirectory offset.
func dentry(n int, attrs uint32, name string, subdir int64) []byte {
	d := make([]byte, n)
	binary.LittleEndian.PutUint64(d[0:], uint64(n))
	binary.LittleEndian.PutUint32(d[8:], attrs)
	binary.LittleEndian.PutUint32(d[12:], 0xffffffff) // no security descriptor
	binary.LittleEndian.PutUint64(d[16:], uint64(subdir))
	nm := utf16le(name)
	binary.LittleEndian.PutUint16(d[100:], uint16(len(nm)))
	copy(d[102:], nm)
	if 102+len(nm)+2 > n {
		panic(fmt.Sprintf("wimbomb: name %q does not fit an entry of %d bytes", name, n))
	}
	return d
}

// Metadata writes a WIM whose one image's metadata resource decompresses
// to about size bytes: the root directory holding (size-128)/128
// identical entries, all files named "identicalnm".
func Metadata(path string, size int64) error {
	const entryLen = 128
	const first = 120 // security data (8), root entry (104), end of root's list (8)
	prefix := make([]byte, first)
	binary.LittleEndian.PutUint32(prefix[0:], 8) // security data: 8 bytes, no descriptors
	copy(prefix[8:], dentry(104, 0x10, "", first))
	entry := dentry(entryLen, 0x80, "identicalnm", 0)
	k := (size - first - 8) / entryLen
	end := first + k*entryLen
	total := end + 8
	fill := func(off int64, buf []byte) {
		for i := range buf {
			p := off + int64(i)
			switch {
			case p < first:
				buf[i] = prefix[p]
			case p < end:
				buf[i] = entry[(p-first)%entryLen]
			default:
				buf[i] = 0
			}
		}
	}
	return write(path, content{size: total, fill: fill, lo: first, hi: end}, bytesContent(simpleXML()), false)
}

// Security writes a WIM whose one image's security data claims count
// descriptors, all of length zero, followed by an empty root directory.
func Security(path string, count int64) error {
	secLen := 8 + 8*count
	if secLen > 0xffffffff {
		return fmt.Errorf("wimbomb: %d descriptors do not fit the 32-bit length", count)
	}
	rootOff := (secLen + 7) &^ 7
	root := dentry(104, 0x10, "", 0)
	total := rootOff + int64(len(root)) + 8
	fill := func(off int64, buf []byte) {
		for i := range buf {
			p := off + int64(i)
			switch {
			case p < 4:
				buf[i] = byte(uint32(secLen) >> (8 * p))
			case p < 8:
				buf[i] = byte(uint32(count) >> (8 * (p - 4)))
			case p >= rootOff && p < rootOff+int64(len(root)):
				buf[i] = root[p-rootOff]
			default:
				buf[i] = 0
			}
		}
	}
	return write(path, content{size: total, fill: fill, lo: 8, hi: rootOff}, bytesContent(simpleXML()), false)
}

// XML writes a WIM with an empty image whose XML data decompresses to about
// size bytes: one IMAGE holding a run of identical unknown elements.
func XML(path string, size int64) error {
	head := append([]byte{0xff, 0xfe}, utf16le(`<WIM><TOTALBYTES>0</TOTALBYTES><IMAGE INDEX="1"><NAME>bomb</NAME>`)...)
	tail := utf16le(`</IMAGE></WIM>`)
	unit := utf16le(`<A>aaaaaaaaa</A>`) // 32 bytes: every 32 KiB chunk alike
	k := (size - int64(len(head)) - int64(len(tail))) / int64(len(unit))
	end := int64(len(head)) + k*int64(len(unit))
	total := end + int64(len(tail))
	fill := func(off int64, buf []byte) {
		for i := range buf {
			p := off + int64(i)
			switch {
			case p < int64(len(head)):
				buf[i] = head[p]
			case p < end:
				buf[i] = unit[(p-int64(len(head)))%int64(len(unit))]
			default:
				buf[i] = tail[p-end]
			}
		}
	}
	root := make([]byte, 8+104+8)
	binary.LittleEndian.PutUint32(root[0:], 8)
	copy(root[8:], dentry(104, 0x10, "", 0))
	return write(path, bytesContent(root), content{size: total, fill: fill, lo: int64(len(head)), hi: end}, true)
}
