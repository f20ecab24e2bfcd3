//go:build !amd64

package xpress

// haveBestMatchAsm is false: the search is bestMatch's Go here.
const haveBestMatchAsm = false

// bestMatchAsm is never called where haveBestMatchAsm is false.
func bestMatchAsm(w *window, prev *[MaxChunkSize]uint16, n, i, minGain, minLen, depth, cand3 int) (length, offset, bestGain int) {
	panic("xpress: no assembly match search on this architecture")
}
