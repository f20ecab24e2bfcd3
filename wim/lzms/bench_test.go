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

func BenchmarkCompressBinary(b *testing.B) {
	src := sampleBinary(b, 1<<20)
	c, _ := NewCompressor(1 << 17)
	dst := make([]byte, 1<<17)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		for i := 0; i+1<<17 <= len(src); i += 1 << 17 {
			c.compress(dst, src[i:i+1<<17])
		}
	}
}
