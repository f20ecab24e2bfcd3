package xpress

// haveBestMatchAsm says that bestMatchAsm is the assembly search of
// search_amd64.s (baseline amd64 instructions only: no CPU check).
const haveBestMatchAsm = true

// bestMatchAsm is bestMatch in assembly, with the same arguments and
// results (prev is c.prev).
//
//go:noescape
func bestMatchAsm(w *window, prev *[MaxChunkSize]uint16, n, i, minGain, minLen, depth, cand3 int) (length, offset, bestGain int)

// search_amd64.s has these parameters built in (the gain's 6 and 8 bits,
// the 3-byte minimum, 18 from which a length needs an extra byte, the nice
// length 48): this fails to compile when one of them changes without it.
const _ uint = 0 - (literalBits ^ 6 | symbolBits ^ 8 | minMatchLen ^ 3 | (minMatchLen + 15) ^ 18 | niceMatchLen ^ 48)
