package winimage

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/reseal/reseal/sample"
)

// FuzzParseActionFile feeds the parser arbitrary bytes, seeded with the
// action files the sample volume carries (Sysprep's shapes) and the unit test's.
func FuzzParseActionFile(f *testing.F) {
	f.Add([]byte(actionFileSample))
	dir := f.TempDir()
	if err := sample.Write(dir, sample.Options{Seed: 1}); err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"Cleanup.xml", "Generalize.xml", "Specialize.xml"} {
		if data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(ActionFilesDir), name)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		af, err := ParseActionFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, img := range af.Imaging {
			for _, fa := range img.Files {
				if rel, err := ExpandRuntimePath(fa.Path); err == nil {
					if _, err := splitRel(rel); err != nil {
						t.Fatalf("expanded path %q escapes: %v", rel, err)
					}
				}
			}
		}
	})
}

// FuzzParseRadiusConfig checks the ias.xml reader never panics.
func FuzzParseRadiusConfig(f *testing.F) {
	f.Add([]byte(`<Root><RadiusClients><Clients><Entry name="a"/></Clients></RadiusClients><RadiusServerGroups><Entry name="g"/></RadiusServerGroups></Root>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseRadiusConfig(data)
	})
}

// FuzzFormatSID checks the SID renderer on arbitrary bytes.
func FuzzFormatSID(f *testing.F) {
	f.Add([]byte{1, 4, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Fuzz(func(t *testing.T, data []byte) {
		FormatSID(data)
	})
}

// FuzzParseStateIni checks the State.ini reader on arbitrary bytes.
func FuzzParseStateIni(f *testing.F) {
	f.Add([]byte("[State]\r\nImageState=IMAGE_STATE_COMPLETE\r\n"))
	f.Add([]byte{0xFF, 0xFE, '[', 0, 'S', 0, ']', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseStateIni(data)
	})
}

// FuzzDecodeLSAString checks the UNICODE_STRING reader on arbitrary bytes.
func FuzzDecodeLSAString(f *testing.F) {
	f.Add([]byte{0x0e, 0, 0x10, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 'C', 0, 'O', 0, 'N', 0, 'T', 0, 'O', 0, 'S', 0, 'O', 0, 0, 0})
	f.Add([]byte{6, 0, 8, 0, 8, 0, 0, 0, 'W', 0, 'G', 0, '1', 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := DecodeLSAString(data); err == nil {
			if back, err := DecodeLSAString(EncodeLSAString(s, data)); err != nil || back != s {
				t.Fatalf("round trip of %q gave %q, %v", s, back, err)
			}
		}
	})
}
