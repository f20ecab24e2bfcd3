package lzms

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// The test vectors of the format description (section 11), made by an
// existing compressor.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func vectorA() []byte { return bytes.Repeat([]byte("abcab"), 20) }

func vectorB() []byte {
	var b []byte
	for k := range 64 {
		b = binary.LittleEndian.AppendUint32(b, uint32(1000+7*k))
	}
	return b
}

func vectorC(t testing.TB) []byte {
	return unhex(t, `90 e8 ff 0f 00 00 90 90 90 e8 f7 0f 00 00 90 90
90 e8 ef 0f 00 00 90 90 90 e8 e7 0f 00 00 90 90
90 e8 df 0f 00 00 90 90 90 e8 d7 0f 00 00 90 90
90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90`)
}

func vectorE() []byte {
	x := uint32(1)
	next := func() uint32 {
		x = (x*1103515245 + 12345) & (1<<31 - 1)
		return x >> 16
	}
	var b []byte
	for range 2600 {
		b = append(b, byte(0x61+next()&15))
	}
	words := strings.Fields("alpha beta gamma delta chunk solid image range coder match offset length queue window header table")
	for len(b) < 9000 {
		b = append(b, words[next()&15]...)
		b = append(b, ' ')
	}
	return b[:9000]
}

func vectorECompressed(t testing.TB) []byte {
	t.Helper()
	s, err := os.ReadFile("testdata/vector-e.b64")
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(string(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVectors(t *testing.T) {
	cases := []struct {
		name       string
		plain      []byte
		compressed []byte
	}{
		{"A", vectorA(), unhex(t, "1c 65 d0 8f 00 00 00 18 9e 86 55 63 62 61")},
		{"B", vectorB(), unhex(t, "cb 33 71 00 20 30 00 00 88 5f 09 7e 02 8b 60 e3 65 6f fd ef 00 00 03 e8")},
		{"D", bytes.Repeat(vectorC(t), 3), unhex(t, `fd 1e 67 7d 63 00 73 65 00 6c 00 00 40 8e cb 52
ef d9 fa 01 a1 97 5c 08 00 6d dd a3 57 90 00 00 0f ff e8 90`)},
		{"E", vectorE(), vectorECompressed(t)},
	}
	d := NewDecompressor()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := make([]byte, len(c.plain))
			if err := d.Decompress(got, c.compressed); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.plain) {
				t.Fatalf("decoded %x\nwant    %x", got, c.plain)
			}
		})
	}
}

func TestVectorEHashes(t *testing.T) {
	if got := sha256.Sum256(vectorE()); hex.EncodeToString(got[:]) != "7a610a5b67dc21f5899cbb6699d598491ae513e6027d5f4c5c9eb1dd9f4d82e3" {
		t.Fatalf("input SHA-256 %x", got)
	}
	if got := sha256.Sum256(vectorECompressed(t)); hex.EncodeToString(got[:]) != "50ccfdcf47ff336c5e1f621ba56e8f7fee0a57433db8184a079dccaedce9a449" {
		t.Fatalf("compressed SHA-256 %x", got)
	}
}

func TestX86FilterVectorC(t *testing.T) {
	in := vectorC(t)
	want := unhex(t, `90 e8 ff 0f 00 00 90 90 90 e8 f7 0f 00 00 90 90
90 e8 00 10 00 00 90 90 90 e8 00 10 00 00 90 90
90 e8 00 10 00 00 90 90 90 e8 00 10 00 00 90 90
90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90`)
	var xs x86State
	buf := bytes.Clone(in)
	x86Filter(buf, &xs, true)
	if !bytes.Equal(buf, want) {
		t.Fatalf("encoded %x\nwant    %x", buf, want)
	}
	x86Filter(buf, &xs, false)
	if !bytes.Equal(buf, in) {
		t.Fatalf("decode did not restore the input: %x", buf)
	}
}

func TestTables(t *testing.T) {
	if lengthBase[numLengthSlots] != 1073809579 {
		t.Errorf("length end %d", lengthBase[numLengthSlots])
	}
	for _, c := range []struct{ slot, base uint32 }{{8, 9}, {167, 0xe4a5}, {427, 0x3de4a5}, {798, 0x065be4a5}, {799, 0x465be4a5}} {
		if offsetBase[c.slot] != c.base {
			t.Errorf("offset base %d = %#x, want %#x", c.slot, offsetBase[c.slot], c.base)
		}
	}
	for _, c := range []struct{ usize, slots int }{{32 << 10, 142}, {64 << 10, 171}, {128 << 10, 203}, {1 << 20, 317}, {2 << 20, 368}, {32 << 20, 643}, {64 << 20, 729}, {106685606, 799}, {3, 2}, {4, 3}, {5, 4}, {9, 8}, {10, 9}} {
		if got := numOffsetSlots(c.usize); got != c.slots {
			t.Errorf("numOffsetSlots(%d) = %d, want %d", c.usize, got, c.slots)
		}
	}
}

func TestHuffmanConstruction(t *testing.T) {
	var b lengthBuilder
	lens := make([]uint8, 5)
	b.build([]uint32{1, 1, 2, 2, 4}, lens)
	if !bytes.Equal(lens, []byte{3, 3, 2, 2, 2}) {
		t.Errorf("lengths %v, want [3 3 2 2 2]", lens)
	}
	// Vector F: DELTA_POWER code.
	var c adaptiveCode
	c.reset(8, powerPeriod)
	for k := range 512 {
		sym := min(7, trailingZeros(k+1))
		c.count(sym)
	}
	if !bytes.Equal(c.lens[:8], []byte{1, 2, 3, 4, 5, 6, 7, 7}) {
		t.Errorf("power lengths %v", c.lens[:8])
	}
	if want := []uint32{129, 65, 33, 17, 9, 5, 3, 3}; !equalU32(c.freq[:8], want) {
		t.Errorf("halved frequencies %v, want %v", c.freq[:8], want)
	}
	// Vector F: LENGTH code.
	c.reset(numLengthSlots, lengthPeriod)
	for k := range 512 {
		c.count((k*k + 3*k) % 54)
	}
	want := "2 10 10 10 4 10 10 10 10 10 4 10 10 10 10 10 4 10 3 10 10 10 4 10 10 10 10 10 4 9 9 9 9 9 4 9 9 9 9 9 4 9 9 9 9 9 4 9 9 9 9 9 4 9"
	var got []string
	for _, l := range c.lens[:numLengthSlots] {
		got = append(got, itoa(int(l)))
	}
	if strings.Join(got, " ") != want {
		t.Errorf("length lengths\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	// Initial codes.
	c.reset(203, offsetPeriod)
	for s, l := range c.lens[:203] {
		if w := map[bool]uint8{true: 8, false: 7}[s < 150]; l != w {
			t.Fatalf("initial offset code: symbol %d length %d, want %d", s, l, w)
		}
	}
}

func trailingZeros(v int) int {
	n := 0
	for v&1 == 0 {
		v >>= 1
		n++
	}
	return n
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func itoa(v int) string {
	if v >= 10 {
		return string(rune('0'+v/10)) + string(rune('0'+v%10))
	}
	return string(rune('0' + v))
}

func TestOffsetSlot(t *testing.T) {
	offsetSlotTablesOnce.Do(initOffsetSlotTables)
	for v := uint32(1); v < 1<<27; v += 1 + v/1000 {
		if a, b := offsetSlot(v), offsetSlotSearch(v); a != b {
			t.Fatalf("offsetSlot(%d) = %d, want %d", v, a, b)
		}
	}
	for s := 1; s < maxOffsetSlots; s++ {
		for _, v := range []uint32{offsetBase[s] - 1, offsetBase[s]} {
			if a, b := offsetSlot(v), offsetSlotSearch(v); a != b {
				t.Fatalf("offsetSlot(%d) = %d, want %d", v, a, b)
			}
		}
	}
}
