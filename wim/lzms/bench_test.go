package lzms

import "testing"

func BenchmarkCompressSmall(b *testing.B) {
	src := sampleText(b, 2000)
	c, _ := NewCompressor(1 << 16)
	dst := make([]byte, 4000)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		c.compress(dst, src)
	}
}
