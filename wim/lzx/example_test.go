package lzx_test

import (
	"bytes"
	"fmt"

	"github.com/reseal/reseal/wim/lzx"
)

// A WIM writer compresses each chunk on its own and stores it raw when
// Compress returns 0; a reader decodes with the WIM's chunk size.
func Example() {
	const chunkSize = 32768
	chunk := bytes.Repeat([]byte("reseal prepares Windows images offline. "), 1000)[:chunkSize]

	c, err := lzx.NewCompressor(chunkSize)
	if err != nil {
		panic(err)
	}
	stored := make([]byte, len(chunk)-1)
	n := c.Compress(stored, chunk)
	if n == 0 {
		fmt.Println("stored raw")
		return
	}

	out := make([]byte, len(chunk))
	if err := lzx.DecompressChunk(out, stored[:n], chunkSize); err != nil {
		panic(err)
	}
	fmt.Println(n < 200, bytes.Equal(out, chunk))
	// Output: true true
}
