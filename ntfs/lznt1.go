package ntfs

import "errors"

// lznt1Decompress decodes LZNT1 ([MS-XCA] section 2.5) from src into dst:
// a sequence of chunks, each representing up to 4 KiB of output, stored
// plainly or as flag-grouped literals and back references whose split of
// offset and length bits depends on the position within the chunk. It
// returns the bytes written; the rest of dst is left zero.
func lznt1Decompress(dst, src []byte) (int, error) {
	out := 0
	for len(src) >= 2 {
		h := le16(src)
		if h == 0 {
			break
		}
		size := int(h&0x0fff) + 1
		if 2+size > len(src) {
			return out, errors.New("LZNT1 chunk runs past the compressed data")
		}
		chunk := src[2 : 2+size]
		src = src[2+size:]
		if out >= len(dst) {
			return out, errors.New("LZNT1 data decodes past the compression unit")
		}
		limit := out + 4096
		if limit > len(dst) {
			limit = len(dst)
		}
		if h&0x8000 == 0 {
			n := copy(dst[out:limit], chunk)
			out += n
			out = limit
			continue
		}
		start := out
		pos := out
		for i := 0; i < len(chunk); {
			flags := chunk[i]
			i++
			for bit := 0; bit < 8 && i < len(chunk); bit++ {
				if flags&(1<<bit) == 0 {
					if pos >= limit {
						return out, errors.New("LZNT1 literal past the chunk's 4 KiB")
					}
					dst[pos] = chunk[i]
					pos++
					i++
					continue
				}
				if i+2 > len(chunk) {
					return out, errors.New("LZNT1 back reference cut short")
				}
				tok := int(le16(chunk[i:]))
				i += 2
				lengthBits := 12
				for p := pos - start - 1; p >= 0x10; p >>= 1 {
					lengthBits--
				}
				length := tok&(1<<lengthBits-1) + 3
				disp := tok>>lengthBits + 1
				if disp > pos-start {
					return out, errors.New("LZNT1 back reference before the chunk's start")
				}
				if pos+length > limit {
					return out, errors.New("LZNT1 back reference past the chunk's 4 KiB")
				}
				for k := 0; k < length; k++ {
					dst[pos+k] = dst[pos-disp+k]
				}
				pos += length
			}
		}
		out = limit
		if pos < limit {
			// A short chunk ends the data.
			clear(dst[pos:limit])
		}
	}
	return out, nil
}
