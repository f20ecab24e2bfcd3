package wim

import (
	"strings"
	"testing"
)

func TestCaptureConfig(t *testing.T) {
	text := "; a comment\r\n# another\r\n[ExclusionList]\r\n\\Windows\\Temp\r\n*.tmp\r\n\"\\Program Files\\Big Dir\"\r\nC:\\pagefile.sys\r\n[ExclusionException]\r\n\\Windows\\Temp\\keep.tmp\r\n[CompressionExclusionList]\r\n*.zip\r\n"
	utf16 := encodeXMLData(text) // UTF-16LE with a BOM, as DISM's files often are
	for name, data := range map[string][]byte{"utf-8": []byte(text), "utf-16le": utf16} {
		t.Run(name, func(t *testing.T) {
			c, err := ParseCaptureConfig(strings.NewReader(string(data)))
			if err != nil {
				t.Fatal(err)
			}
			m := newMatcher(c, []string{"/extra", "Windows/Prefetch", `Users\*\AppData\Local\Temp`, "nothing-here"}, []string{"/quiet-one"}, true)
			for path, want := range map[string]bool{
				"/Windows/Temp":          true,
				"/windows/temp":          true, // case-insensitive
				"/Windows/Temp/keep.tmp": false,
				"/Windows/Temp2":         false,
				"/a/b/c.tmp":             true, // relative globs match in any directory
				"/a/b/c.tmpx":            false,
				"/Program Files/Big Dir": true,
				"/pagefile.sys":          true, // drive letter ignored
				"/sub/pagefile.sys":      false,
				"/extra":                 true,
				"/a.zip":                 false, // other sections do not exclude
				// A glob with a separator is from the root, with or without
				// the leading one, as WimScript.ini users write it.
				"/Windows/Prefetch":                 true,
				"/x/Windows/Prefetch":               false,
				"/Users/bob/AppData/Local/Temp":     true,
				"/Users/bob/AppData/Local/Temp/x/y": false, // the directory is excluded, so the scan never gets here
			} {
				if got := m.excluded(path); got != want {
					t.Errorf("excluded(%q) = %v, want %v", path, got, want)
				}
			}
			if got := m.unmatched(); strings.Join(got, "|") != "nothing-here" {
				t.Errorf("unmatched globs %q, want only nothing-here", got)
			}
		})
	}
	for _, bad := range []string{"outside a section\n", "[ExclusionList\n", "[ExclusionList]\n[a-\n"} {
		if _, err := ParseCaptureConfig(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseCaptureConfig(%q) accepted", bad)
		}
	}
	def := newMatcher(DefaultCaptureConfig(), nil, nil, false)
	for _, p := range []string{"/pagefile.sys", "/hiberfil.sys", "/swapfile.sys", "/System Volume Information", "/$Recycle.Bin", "/Windows/CSC"} {
		if !def.excluded(p) {
			t.Errorf("default configuration keeps %s", p)
		}
	}
	if def.excluded("/Windows/System32") {
		t.Error("default configuration excludes /Windows/System32")
	}
}

// TestDefaultExclusionsAreNotReportedUnmatched: the defaults (pagefile.sys
// and the like) usually match nothing in a tree, and that is no news.
func TestDefaultExclusionsAreNotReportedUnmatched(t *testing.T) {
	m := newMatcher(DefaultCaptureConfig(), nil, nil, false)
	m.excluded("/Windows")
	if u := m.unmatched(); len(u) != 0 {
		t.Errorf("default globs reported: %q", u)
	}
}
