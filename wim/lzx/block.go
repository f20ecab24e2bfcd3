package lzx

import "encoding/binary"

// item is one literal or match of a block, ready to be Huffman coded.
type item struct {
	mainSym   uint16
	lenSym    int16 // length symbol, or -1 when the length needs none
	extraBits uint8 // extra offset bits of an explicit offset
	extra     uint32
}

func literalItem(b byte) item { return item{mainSym: uint16(b), lenSym: -1} }

// matchItem codes a match of length bytes whose offset is repeated offset
// rep (0..2), or, when rep < 0, the explicit offset offset.
func matchItem(length int, rep int, offset uint32) item {
	hdr := length - minMatch
	var it item
	it.lenSym = -1
	if hdr >= numPrimaryLengths {
		it.lenSym = int16(hdr - numPrimaryLengths)
		hdr = numPrimaryLengths
	}
	slot := rep
	if rep < 0 {
		formatted := offset + 2
		slot = positionSlot(formatted)
		it.extraBits = extraBits[slot]
		it.extra = formatted - positionBase[slot]
	}
	it.mainSym = uint16(numChars + slot<<3 + hdr)
	return it
}

// blockWriter codes blocks into a bitWriter, keeping the previous block's
// code lengths that the next block's lengths are coded against.
type blockWriter struct {
	w       bitWriter
	order   int
	numMain int
	huff    huffmanEncoder

	mainFreq    [maxMainSyms]uint32
	lengthFreq  [numLengthSyms]uint32
	alignedFreq [numAlignedSyms]uint32

	mainLens, prevMainLens     [maxMainSyms]uint8
	lengthLens, prevLengthLens [numLengthSyms]uint8
	alignedLens                [numAlignedSyms]uint8
	mainCodes                  [maxMainSyms]uint32
	lengthCodes                [numLengthSyms]uint32
	alignedCodes               [numAlignedSyms]uint32

	preFreq  [numPretreeSyms]uint32
	preLens  [numPretreeSyms]uint8
	preCodes [numPretreeSyms]uint32
	preSyms  []uint16 // pretree symbol | extra value << 5 | extra bits << 12

	// optimalLens codes lengths by refineLens (LevelBest), with its buffers.
	optimalLens                 bool
	lensCost                    []uint32
	lensStep, zeroRun, bestSyms []uint16
}

func (b *blockWriter) reset(dst []byte, order int) {
	b.w.init(dst)
	b.order = order
	b.numMain = numChars + 8*numPositionSlots(order)
	clear(b.prevMainLens[:])
	clear(b.prevLengthLens[:])
}

// buildCodes makes the Huffman codes for the items of one block.
func (b *blockWriter) buildCodes(items []item) {
	clear(b.mainFreq[:])
	clear(b.lengthFreq[:])
	clear(b.alignedFreq[:])
	for _, it := range items {
		b.mainFreq[it.mainSym]++
		if it.lenSym >= 0 {
			b.lengthFreq[it.lenSym]++
		}
		if it.extraBits >= 3 {
			b.alignedFreq[it.extra&7]++
		}
	}
	b.huff.build(b.mainFreq[:b.numMain], maxCodeLen, b.mainLens[:b.numMain], b.mainCodes[:b.numMain])
	b.huff.build(b.lengthFreq[:], maxCodeLen, b.lengthLens[:], b.lengthCodes[:])
	b.huff.build(b.alignedFreq[:], maxAlignedCodeLen, b.alignedLens[:], b.alignedCodes[:])
}

// useAligned tells whether an aligned offset block codes the items in fewer
// bits than a verbatim one.
func (b *blockWriter) useAligned() bool {
	verbatim, aligned := 0, 8*3
	for s, f := range b.alignedFreq {
		verbatim += int(f) * 3
		aligned += int(f) * int(b.alignedLens[s])
	}
	return aligned < verbatim
}

// writeBlock codes one block of items that decode to size bytes.
func (b *blockWriter) writeBlock(items []item, size int) {
	b.buildCodes(items)
	aligned := b.useAligned()
	w := &b.w
	if aligned {
		w.write(blockAligned, 3)
	} else {
		w.write(blockVerbatim, 3)
	}
	b.writeSize(size)
	if aligned {
		for _, l := range b.alignedLens {
			w.write(uint32(l), 3)
		}
	}
	b.writeLens(b.mainLens[:numChars], b.prevMainLens[:numChars])
	b.writeLens(b.mainLens[numChars:b.numMain], b.prevMainLens[numChars:b.numMain])
	b.writeLens(b.lengthLens[:], b.prevLengthLens[:])
	for _, it := range items {
		w.write(b.mainCodes[it.mainSym], uint(b.mainLens[it.mainSym]))
		if it.lenSym >= 0 {
			w.write(b.lengthCodes[it.lenSym], uint(b.lengthLens[it.lenSym]))
		}
		if it.extraBits == 0 {
			continue
		}
		if aligned && it.extraBits >= 3 {
			w.write(it.extra>>3, uint(it.extraBits-3))
			a := it.extra & 7
			w.write(b.alignedCodes[a], uint(b.alignedLens[a]))
		} else {
			w.write(it.extra, uint(it.extraBits))
		}
	}
	b.prevMainLens = b.mainLens
	b.prevLengthLens = b.lengthLens
}

// sizeBits is how many bits the block size field takes.
func (b *blockWriter) sizeBits(size int) int {
	switch {
	case size == defaultBlockSize:
		return 1
	case b.order >= 16:
		return 25
	}
	return 17
}

func (b *blockWriter) writeSize(size int) {
	w := &b.w
	if size == defaultBlockSize {
		w.write(1, 1)
		return
	}
	w.write(0, 1)
	if b.order >= 16 {
		w.write(uint32(size)>>16, 8)
	}
	w.write(uint32(size)&0xffff, 16)
}

// uncompressedBits is the size in bits of data stored as an uncompressed
// block starting at the current position, or -1 when its header would end
// exactly on a 16-bit boundary: the padding is then 16 bits by the
// specification, a case wimlib never writes, so we do not either.
func (b *blockWriter) uncompressedBits(size int) int {
	header := 3 + b.sizeBits(size)
	end := b.w.bits() + header
	if end%16 == 0 {
		return -1
	}
	return header + (16 - end%16) + 12*8 + 8*(size+size&1)
}

// writeUncompressedBlock stores data as an uncompressed block that sets the
// repeated offsets to reps. The previous code lengths stay as they were.
func (b *blockWriter) writeUncompressedBlock(data []byte, reps [3]uint32) {
	w := &b.w
	w.write(blockUncompressed, 3)
	b.writeSize(len(data))
	w.write(0, 16-w.count) // 1..15 bits of padding (see uncompressedBits)
	var hdr [12]byte
	for i, r := range reps {
		binary.LittleEndian.PutUint32(hdr[4*i:], r)
	}
	w.writeBytes(hdr[:])
	w.writeBytes(data)
	if len(data)&1 != 0 {
		w.writeBytes([]byte{0})
	}
}

// blockWriterState is what writeBlock changes, to undo it.
type blockWriterState struct {
	w              bitWriter
	prevMainLens   [maxMainSyms]uint8
	prevLengthLens [numLengthSyms]uint8
}

func (b *blockWriter) save(st *blockWriterState) {
	st.w = b.w
	st.prevMainLens = b.prevMainLens
	st.prevLengthLens = b.prevLengthLens
}

func (b *blockWriter) restore(st *blockWriterState) {
	b.w = st.w
	b.prevMainLens = st.prevMainLens
	b.prevLengthLens = st.prevLengthLens
}

// writeLens codes lens as deltas from prev with a pretree.
func (b *blockWriter) writeLens(lens, prev []uint8) {
	b.preSyms = b.preSyms[:0]
	clear(b.preFreq[:])
	add := func(sym int, extra uint16, nbits uint16) {
		b.preSyms = append(b.preSyms, uint16(sym)|extra<<5|nbits<<12)
		b.preFreq[sym]++
	}
	delta := func(i int) int { return (int(prev[i]) - int(lens[i]) + 17) % 17 }
	for i := 0; i < len(lens); {
		if lens[i] == 0 {
			run := 1
			for i+run < len(lens) && lens[i+run] == 0 && run < 51 {
				run++
			}
			switch {
			case run >= 20:
				add(18, uint16(run-20), 5)
				i += run
				continue
			case run >= 4:
				add(17, uint16(run-4), 4)
				i += run
				continue
			}
		}
		run := 1
		for i+run < len(lens) && run < 5 && lens[i+run] == lens[i] && prev[i+run] == prev[i] {
			run++
		}
		if run >= 4 {
			add(19, uint16(run-4), 1)
			add(delta(i), 0, 0)
			i += run
			continue
		}
		add(delta(i), 0, 0)
		i++
	}
	if b.optimalLens {
		b.refineLens(lens, prev)
	}
	b.huff.build(b.preFreq[:], maxPretreeCodeLen, b.preLens[:], b.preCodes[:])
	w := &b.w
	for _, l := range b.preLens {
		w.write(uint32(l), 4)
	}
	for _, ps := range b.preSyms {
		sym := ps & 31
		w.write(b.preCodes[sym], uint(b.preLens[sym]))
		if nbits := ps >> 12; nbits != 0 {
			w.write(uint32(ps>>5&0x7f), uint(nbits))
		}
	}
}
