package ntfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
)

// volumeBytes builds a volume (mkntfs + wimlib apply) once per test.
func volumeBytes(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	vol, _ := makeVolume(t, dir)
	b, err := os.ReadFile(vol)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logFileOffset returns where $LogFile's first cluster lies in the image.
func logFileOffset(t *testing.T, img []byte) int64 {
	v, err := Open(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := v.fileAttrs(recLogFile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.newStream(recLogFile, pick(attrs, attrData, ""))
	if err != nil {
		t.Fatal(err)
	}
	return s.runs[0].lcn * v.clusterSize
}

func TestDirtyVolumes(t *testing.T) {
	img := volumeBytes(t)

	t.Run("dirty flag", func(t *testing.T) {
		b := append([]byte(nil), img...)
		v, _ := Open(bytes.NewReader(b), int64(len(b)))
		rec, _ := v.record(recVolume)
		// Find $VOLUME_INFORMATION's value in the raw record and set its flag.
		off := int64(v.mftLCN*v.clusterSize + recVolume*v.recordSize)
		raw := b[off : off+v.recordSize]
		a := int(binary.LittleEndian.Uint16(rec[20:]))
		for binary.LittleEndian.Uint32(rec[a:]) != attrVolumeInfo {
			a += int(binary.LittleEndian.Uint32(rec[a+4:]))
		}
		val := a + int(binary.LittleEndian.Uint16(rec[a+20:]))
		raw[val+10] |= 1
		v2, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if d := v2.Dirty(); len(d) != 1 || !strings.Contains(d[0], "dirty flag") {
			t.Errorf("Dirty() = %v", d)
		}
	})

	t.Run("log not clean", func(t *testing.T) {
		b := append([]byte(nil), img...)
		at := logFileOffset(t, b)
		page := b[at : at+4096]
		for i := range page {
			page[i] = 0
		}
		copy(page, "RSTR")
		le := binary.LittleEndian
		le.PutUint16(page[4:], 0x1e) // update sequence array
		le.PutUint16(page[6:], 9)
		le.PutUint32(page[16:], 4096)
		le.PutUint32(page[20:], 4096)
		le.PutUint16(page[24:], 0x30) // restart area
		le.PutUint16(page[26:], 1)
		le.PutUint16(page[28:], 1)
		le.PutUint16(page[0x30+8:], 1)  // one client
		le.PutUint16(page[0x30+12:], 0) // client 0 in use
		le.PutUint16(page[0x30+14:], 0) // not clean
		le.PutUint16(page[0x1e:], 7)
		for s := 0; s < 8; s++ {
			end := (s+1)*512 - 2
			copy(page[0x20+2*s:], page[end:end+2])
			le.PutUint16(page[end:], 7)
		}
		v, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if d := v.Dirty(); len(d) != 1 || !strings.Contains(d[0], "transactions not applied") {
			t.Errorf("Dirty() = %v", d)
		}
		// The same page flagged clean is clean.
		le.PutUint16(page[0x30+14:], 2)
		v, _ = Open(bytes.NewReader(b), int64(len(b)))
		if d := v.Dirty(); len(d) != 0 {
			t.Errorf("clean restart area: Dirty() = %v", d)
		}
	})

	t.Run("bitlocker", func(t *testing.T) {
		b := append([]byte(nil), img[:1<<20]...)
		copy(b[3:], "-FVE-FS-")
		if _, err := Open(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrBitLocker) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("truncated", func(t *testing.T) {
		for _, n := range []int{100, 4096, 1 << 20, len(img) / 3} {
			b := img[:n]
			v, err := Open(bytes.NewReader(b), int64(len(b)))
			if err == nil {
				exercise(v)
			}
		}
	})
}
