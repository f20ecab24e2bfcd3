package winimage

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// FormatSID renders a binary security identifier as S-1-5-21-....
func FormatSID(b []byte) (string, error) {
	if len(b) < 8 {
		return "", fmt.Errorf("SID: %d bytes, too short", len(b))
	}
	rev, count := b[0], int(b[1])
	if rev != 1 || count > 15 || len(b) < 8+4*count {
		return "", fmt.Errorf("SID: revision %d with %d sub-authorities in %d bytes", rev, count, len(b))
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	sb.WriteString("S-1-")
	sb.WriteString(strconv.FormatUint(auth, 10))
	for i := 0; i < count; i++ {
		sb.WriteString("-")
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return sb.String(), nil
}
