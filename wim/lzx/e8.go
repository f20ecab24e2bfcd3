package lzx

import (
	"bytes"
	"encoding/binary"
)

// WIM's LZX applies x86 call translation to every chunk: the 32-bit operand
// after each E8 byte (a relative call target) is turned into an absolute one
// before compression, which makes repeated calls to one function identical.
// Positions count from the start of the chunk, and the last e8Tail bytes of
// the chunk are never translated.

// doE8 translates relative call targets to absolute ones (compression side).
func doE8(data []byte) {
	if len(data) <= e8Tail {
		return
	}
	end := len(data) - e8Tail
	for i := 0; i < end; i++ {
		if data[i] != 0xE8 {
			j := bytes.IndexByte(data[i:end], 0xE8)
			if j < 0 {
				return
			}
			i += j
		}
		rel := int32(binary.LittleEndian.Uint32(data[i+1:]))
		if rel >= -int32(i) && rel < e8FileSize {
			var abs int32
			if rel < e8FileSize-int32(i) {
				abs = rel + int32(i)
			} else {
				abs = rel - e8FileSize
			}
			binary.LittleEndian.PutUint32(data[i+1:], uint32(abs))
		}
		i += 4
	}
}

// undoE8 translates absolute call targets back to relative ones.
func undoE8(data []byte) {
	if len(data) <= e8Tail {
		return
	}
	end := len(data) - e8Tail
	for i := 0; i < end; i++ {
		if data[i] != 0xE8 {
			j := bytes.IndexByte(data[i:end], 0xE8)
			if j < 0 {
				return
			}
			i += j
		}
		abs := int32(binary.LittleEndian.Uint32(data[i+1:]))
		if abs >= -int32(i) && abs < e8FileSize {
			var rel int32
			if abs >= 0 {
				rel = abs - int32(i)
			} else {
				rel = abs + e8FileSize
			}
			binary.LittleEndian.PutUint32(data[i+1:], uint32(rel))
		}
		i += 4
	}
}
