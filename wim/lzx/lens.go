package lzx

// refineLens recodes the code lengths lens (deltas from prev) that
// writeLens coded greedily into b.preSyms, choosing among single deltas,
// runs of zeros and runs of one value by dynamic programming under the
// pretree code the previous coding gives, a few times; b.preSyms and
// b.preFreq end as the cheapest coding found. LevelBest only.
func (b *blockWriter) refineLens(lens, prev []uint8) {
	n := len(lens)
	if cap(b.lensCost) < n+1 {
		b.lensCost = make([]uint32, n+1)
		b.lensStep = make([]uint16, n+1)
		b.zeroRun = make([]uint16, n+1)
		b.bestSyms = make([]uint16, 0, n)
	}
	cost, step, zeroRun := b.lensCost[:n+1], b.lensStep[:n+1], b.zeroRun[:n+1]
	zeroRun[n] = 0
	for i := n - 1; i >= 0; i-- {
		zeroRun[i] = 0
		if lens[i] == 0 {
			zeroRun[i] = zeroRun[i+1] + 1
		}
	}
	bestBits := b.preSymsBits()
	b.bestSyms = append(b.bestSyms[:0], b.preSyms...)
	var price [numPretreeSyms]uint32
	for range 3 {
		for s, l := range b.preLens {
			price[s] = uint32(l)
			if l == 0 {
				price[s] = 16
			}
		}
		// cost[i] is the cheapest coding of lens[i:]; step[i] its first
		// item: 0 a single delta, else the run length, zeros or one value.
		cost[n] = 0
		for i := n - 1; i >= 0; i-- {
			d := (int(prev[i]) - int(lens[i]) + 17) % 17
			best, bestStep := price[d]+cost[i+1], uint16(0)
			if z := int(zeroRun[i]); z >= 4 {
				for r := 4; r <= min(z, 19); r++ {
					if c := price[17] + 4 + cost[i+r]; c < best {
						best, bestStep = c, uint16(r)
					}
				}
				for r := 20; r <= min(z, 51); r++ {
					if c := price[18] + 5 + cost[i+r]; c < best {
						best, bestStep = c, uint16(r)
					}
				}
			}
			if i+4 <= n {
				// A run of one value: every length and every previous
				// length the same (see writeLens).
				same := 1
				for same < 5 && i+same < n && lens[i+same] == lens[i] && prev[i+same] == prev[i] {
					same++
				}
				for r := 4; r <= same; r++ {
					if c := price[19] + 1 + price[d] + cost[i+r]; c < best {
						best, bestStep = c, uint16(r)|1<<15
					}
				}
			}
			cost[i], step[i] = best, bestStep
		}
		b.preSyms = b.preSyms[:0]
		clear(b.preFreq[:])
		add := func(sym int, extra uint16, nbits uint16) {
			b.preSyms = append(b.preSyms, uint16(sym)|extra<<5|nbits<<12)
			b.preFreq[sym]++
		}
		for i := 0; i < n; {
			d := (int(prev[i]) - int(lens[i]) + 17) % 17
			st := step[i]
			switch {
			case st == 0:
				add(d, 0, 0)
				i++
			case st&(1<<15) != 0:
				r := int(st &^ (1 << 15))
				add(19, uint16(r-4), 1)
				add(d, 0, 0)
				i += r
			case st >= 20:
				add(18, st-20, 5)
				i += int(st)
			default:
				add(17, st-4, 4)
				i += int(st)
			}
		}
		b.huff.build(b.preFreq[:], maxPretreeCodeLen, b.preLens[:], b.preCodes[:])
		if bits := b.preSymsBits(); bits < bestBits {
			bestBits = bits
			b.bestSyms = append(b.bestSyms[:0], b.preSyms...)
		} else {
			break
		}
	}
	b.preSyms = append(b.preSyms[:0], b.bestSyms...)
	clear(b.preFreq[:])
	for _, ps := range b.preSyms {
		b.preFreq[ps&31]++
	}
}

// preSymsBits is how many bits b.preSyms take under their own pretree.
func (b *blockWriter) preSymsBits() int {
	clear(b.preFreq[:])
	for _, ps := range b.preSyms {
		b.preFreq[ps&31]++
	}
	b.huff.build(b.preFreq[:], maxPretreeCodeLen, b.preLens[:], b.preCodes[:])
	bits := 0
	for _, ps := range b.preSyms {
		bits += int(b.preLens[ps&31]) + int(ps>>12)
	}
	return bits
}
