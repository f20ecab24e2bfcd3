package lzms

import (
	"encoding/binary"
	"math/bits"
)

// x86State is the filter's memory of where each target was last seen,
// kept between blocks so that it need not be cleared for each.
type x86State struct {
	seen  [65536]int32
	base  int32
	ready bool
}

// x86Candidates has the top bit of each byte of v (little-endian) set
// where the byte may start a recognised instruction (e8, e9, ff, f0, 48, 4c), possibly with others set above the
// lowest: its lowest set bit marks the first one (or 0 for none).
func x86Candidates(v uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(x uint64) uint64 { return (x - ones) &^ x & highs }
	return zero((v|ones)^0xe9*ones) | // e8, e9
		zero((v|4*ones)^0x4c*ones) | // 48, 4c
		zero(v^0xff*ones) |
		zero(v^0xf0*ones)
}

// x86Filter converts the relative targets of some x86 call, lea, mov and
// lock-add instructions to absolute ones (encode) and back (decode), only
// near places where a target was recently seen twice, i.e. in machine code.
func x86Filter(buf []byte, xs *x86State, encode bool) {
	n := len(buf)
	if n <= 17 {
		return
	}
	// Positions are recorded as base+position, with base past every
	// position of the previous blocks by more than the target window, so
	// that entries left from them never count as seen.
	if xs.base > 1<<30-int32(n) || !xs.ready {
		for i := range xs.seen {
			xs.seen[i] = -65536
		}
		xs.base, xs.ready = 0, true
	}
	base := xs.base
	xs.base += int32(n) + 65536
	seen := &xs.seen
	anchor := int32(-1024)
	end := n - 16
	for i := 1; i < end; {
		// Most bytes cannot start a recognised instruction: skip them,
		// eight at a time.
		for i < end {
			m := x86Candidates(binary.LittleEndian.Uint64(buf[i:]))
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= end {
			break
		}
		var oplen int
		var reach int32
		switch buf[i] {
		case 0xe8:
			oplen, reach = 1, 511
		case 0xe9:
			i += 5
			continue
		case 0xff:
			if buf[i+1] != 0x15 {
				i++
				continue
			}
			oplen, reach = 2, 1023
		case 0xf0:
			if buf[i+1] != 0x83 || buf[i+2] != 0x05 {
				i++
				continue
			}
			oplen, reach = 3, 1023
		case 0x48:
			if !(buf[i+1] == 0x8d && buf[i+2]&7 == 5) && !(buf[i+1] == 0x8b && (buf[i+2] == 0x05 || buf[i+2] == 0x0d)) {
				i++
				continue
			}
			oplen, reach = 3, 1023
		case 0x4c:
			if buf[i+1] != 0x8d || buf[i+2]&7 != 5 {
				i++
				continue
			}
			oplen, reach = 3, 1023
		default:
			i++
			continue
		}
		j := i + oplen
		v := binary.LittleEndian.Uint32(buf[j:])
		translate := int32(i)-anchor <= reach
		var key uint32
		if encode {
			key = (uint32(i) + v) & 0xffff
			if translate {
				binary.LittleEndian.PutUint32(buf[j:], v+uint32(i))
			}
		} else {
			if translate {
				v -= uint32(i)
				binary.LittleEndian.PutUint32(buf[j:], v)
			}
			key = (uint32(i) + v) & 0xffff
		}
		last := int32(j + 3)
		if base+last-seen[key] <= 65535 {
			anchor = last
		}
		seen[key] = base + last
		i = j + 4
	}
}
