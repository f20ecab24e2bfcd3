package unattend

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestCorpusRoundTrip(t *testing.T) {
	for _, path := range corpusFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out := write(t, f)
			g := mustParse(t, out)
			if d1, d2 := dump(f), dump(g); d1 != d2 {
				t.Fatalf("round trip changed the tree:\n%s", firstDiff(d1, d2))
			}
			if g.CRLF != f.CRLF || g.Encoding != f.Encoding {
				t.Errorf("line ends %v/%v, encoding %v/%v", f.CRLF, g.CRLF, f.Encoding, g.Encoding)
			}
			// Writing is deterministic: a second round gives the same bytes.
			if again := write(t, g); !bytes.Equal(again, out) {
				t.Error("second write differs from the first")
			}
		})
	}
}

// TestCorpusPositions checks every element's line and column against the
// raw text: the bytes there must open that element's tag.
func TestCorpusPositions(t *testing.T) {
	for _, path := range corpusFiles(t) {
		data := readCorpus(t, filepath.Base(path))
		f := mustParse(t, data)
		lines := strings.Split(string(data), "\n")
		n := 0
		walkElements(f.Root, func(e *Node) bool {
			n++
			if e.Line < 1 || e.Line > len(lines) || e.Column < 1 {
				t.Errorf("%s: <%s> at %d:%d out of range", filepath.Base(path), e.Name, e.Line, e.Column)
				return true
			}
			if rest := lines[e.Line-1][e.Column-1:]; !strings.HasPrefix(rest, "<"+e.Name.String()) {
				t.Errorf("%s: <%s> at %d:%d, text there is %.30q", filepath.Base(path), e.Name, e.Line, e.Column, rest)
			}
			return true
		})
		if n < 10 {
			t.Errorf("%s: only %d elements", filepath.Base(path), n)
		}
	}
}

func TestKeepsWhatItDoesNotUnderstand(t *testing.T) {
	data := readCorpus(t, "windows-vagrant_2022-uefi_autounattend.xml")
	out := string(write(t, mustParse(t, data)))
	for _, want := range []string{
		`<cpi:offlineImage cpi:source="wim:c:/wim/windows-2022/install.wim#Windows Server 2022 SERVERSTANDARD" xmlns:cpi="urn:schemas-microsoft-com:cpi" />`,
		"<!--<Key>VDYBN-27WPP-V4HQT-9VMD4-VMK7H</Key>-->",
		`xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State"`,
		"{&amp;$p}}",
		"\r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("written file lacks %q", want)
		}
	}
	// This file differs from its rewrite only in the space before "/>".
	if got := strings.ReplaceAll(out, " />", "/>"); got != strings.ReplaceAll(string(data), " />", "/>") {
		t.Errorf("rewrite differs beyond self-closing tags:\n%s", firstDiff(string(data), out))
	}
}

func TestUnknownElementsSurvive(t *testing.T) {
	in := `<?xml version="1.0"?>
<!-- head -->
<unattend xmlns="urn:schemas-microsoft-com:unattend" xmlns:x="urn:example">
  <?reseal keep?>
  <servicing><package action="configure"><assemblyIdentity name="Foo" /></package></servicing>
  <settings pass="specialize">
    <component name="Contoso-Custom" processorArchitecture="amd64" publicKeyToken="0123456789abcdef" language="neutral" versionScope="nonSxS">
      <Extensions><x:Thing x:a="1&#xA;2" b='"q"'><![CDATA[a<b]]> &amp; c</x:Thing></Extensions>
    </component>
  </settings>
  <x:Trailer/>
</unattend>
<!-- tail -->
`
	f := mustParse(t, []byte(in))
	out := write(t, f)
	g := mustParse(t, out)
	if dump(f) != dump(g) {
		t.Fatalf("round trip changed the tree:\n%s", firstDiff(dump(f), dump(g)))
	}
	for _, want := range []string{"<?reseal keep?>", "<!-- tail -->", "<x:Trailer />", `x:a="1&#xA;2"`, `b="&quot;q&quot;"`, "a&lt;b &amp; c", "<assemblyIdentity name=\"Foo\" />"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func utf16Bytes(s string, bigEndian bool) []byte {
	var b []byte
	if bigEndian {
		b = []byte{0xFE, 0xFF}
	} else {
		b = []byte{0xFF, 0xFE}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

func TestUTF16(t *testing.T) {
	src := string(readCorpus(t, "windows-vagrant_2022-uefi_autounattend.xml"))
	src = strings.Replace(src, "<FullName>Vagrant</FullName>", "<FullName>Vägrant 日本 𝄞</FullName>", 1)
	want := strings.Replace(dump(mustParse(t, []byte(src))), `encoding=\"utf-8\"`, `encoding=\"utf-16\"`, 1)
	src = strings.Replace(src, `encoding="utf-8"`, `encoding="utf-16"`, 1)
	for _, be := range []bool{false, true} {
		data := utf16Bytes(src, be)
		f := mustParse(t, data)
		if dump(f) != want {
			t.Fatalf("UTF-16 (big endian %v) parses differently:\n%s", be, firstDiff(want, dump(f)))
		}
		if v, _ := f.Setting("windowsPE", "amd64", "Microsoft-Windows-Setup", "UserData/FullName"); v != "Vägrant 日本 𝄞" {
			t.Errorf("FullName = %q", v)
		}
		out := write(t, f)
		if !bytes.Equal(out, data) {
			t.Errorf("UTF-16 (big endian %v) not written back byte for byte:\n%s", be, firstDiff(string(data), string(out)))
		}
	}
	// UTF-8 with a byte order mark keeps it.
	bom := append([]byte{0xEF, 0xBB, 0xBF}, readCorpus(t, "mwrock_postunattend.xml")...)
	if out := write(t, mustParse(t, bom)); !bytes.HasPrefix(out, bom[:3]) {
		t.Error("UTF-8 byte order mark dropped")
	}
}

func TestMalformedAndHostile(t *testing.T) {
	valid := `<unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="specialize"/></unattend>`
	deep := strings.Repeat("<a>", MaxDepth+5) + strings.Repeat("</a>", MaxDepth+5)
	tests := []struct {
		name, in string
		id       string
		line     int
	}{
		{"empty", "", IDMalformed, 0},
		{"text only", "hello", IDMalformed, 1},
		{"unclosed", "<unattend>\n<settings>\n</unattend>", IDMalformed, 3},
		{"mismatched", "<unattend>\n  <a></b>\n</unattend>", IDMalformed, 2},
		{"two roots", valid + "\n<unattend/>", IDMalformed, 2},
		{"text after root", valid + "\nx", IDMalformed, 2},
		{"unknown entity", "<unattend>\n&foo;</unattend>", IDMalformed, 2},
		{"bad char ref", "<unattend>&#0;</unattend>", IDMalformed, 1},
		{"duplicate attribute", `<unattend a="1" a="2"/>`, IDMalformed, 1},
		{"late declaration", "<!-- x -->\n<?xml version=\"1.0\"?><unattend/>", IDMalformed, 2},
		{"billion laughs", `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<unattend>&lol2;</unattend>`, IDDoctype, 2},
		{"external entity", `<!DOCTYPE u [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><unattend>&xxe;</unattend>`, IDDoctype, 1},
		{"deep nesting", deep, IDLimit, 1},
		{"invalid UTF-8", "<unattend>\n\xff</unattend>", IDEncoding, 2},
		{"odd UTF-16", "\xff\xfe<\x00a", IDEncoding, 0},
		{"lone surrogate", "\xff\xfe<\x00\x00\xd8", IDEncoding, 0},
		{"UTF-8 declared UTF-16", "<?xml version=\"1.0\" encoding=\"utf-16\"?>\n<unattend/>", IDEncoding, 1},
		{"UTF-16 declared UTF-8", string(utf16Bytes("<?xml version=\"1.0\" encoding=\"utf-8\"?><unattend/>", false)), IDEncoding, 1},
		{"foreign charset", `<?xml version="1.0" encoding="windows-1252"?><unattend/>`, IDEncoding, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.ID != tt.id || pe.Line != tt.line {
				t.Errorf("got %s at line %d (%v), want %s at line %d", pe.ID, pe.Line, pe, tt.id, tt.line)
			}
			if pe.Error() == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestTooManyNodes(t *testing.T) {
	in := "<unattend>" + strings.Repeat("<a/>", MaxNodes) + "</unattend>"
	allocated := allocatedDuring(func() {
		_, err := Parse(strings.NewReader(in))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.ID != IDLimit {
			t.Fatalf("err = %v, want %s", err, IDLimit)
		}
	})
	// The worst a file within the size limit can cost: every node costs
	// its share, and the total stays far from a denial of service.
	if allocated > 512<<20 {
		t.Errorf("%d MiB allocated for %d nodes", allocated>>20, MaxNodes)
	}
	t.Logf("%d nodes: %d MiB allocated before refusing", MaxNodes, allocated>>20)
}

// endlessXML produces a syntactically plausible answer file of n bytes
// without holding it in memory.
type endlessXML struct {
	n, off int64
}

func (e *endlessXML) Read(p []byte) (int, error) {
	const head = `<?xml version="1.0"?><unattend xmlns="urn:schemas-microsoft-com:unattend"><!--`
	if e.off >= e.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && e.off < e.n {
		if e.off < int64(len(head)) {
			p[k] = head[e.off]
		} else {
			p[k] = 'x'
		}
		k++
		e.off++
	}
	return k, nil
}

func TestEnormousInputIsRefusedQuickly(t *testing.T) {
	const size = 50 << 20
	src := &endlessXML{n: size}
	allocated := allocatedDuring(func() {
		_, err := Parse(src)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.ID != IDLimit {
			t.Fatalf("err = %v, want %s", err, IDLimit)
		}
		if !strings.Contains(pe.Error(), "MiB") {
			t.Errorf("message %q does not say why", pe.Error())
		}
	})
	if src.off > MaxFileSize+64<<10 {
		t.Errorf("read %d bytes of a %d-byte input; the limit is %d", src.off, size, MaxFileSize)
	}
	if allocated > 4*MaxFileSize {
		t.Errorf("allocated %d MiB for a refused input", allocated>>20)
	}
	t.Logf("50 MiB input refused after reading %d MiB, allocating %d MiB", src.off>>20, allocated>>20)
}

func TestSelfClosingKept(t *testing.T) {
	f := mustParse(t, []byte(`<unattend><a/><b></b><c>
</c></unattend>`))
	if got := string(write(t, f)); got != "<unattend><a /><b></b><c>\n</c></unattend>" {
		t.Errorf("got %q", got)
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return "(no difference)"
}
