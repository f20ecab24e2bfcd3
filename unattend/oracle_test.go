package unattend

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// expatDump is a Python program that prints answer files as Python's
// ElementTree (expat) sees them: every element with its namespace-expanded
// name, attributes and text, each file after a "\x00" line. It is an
// independent XML parser, so it judges whether what WriteTo writes means the
// same as what Parse read.
const expatDump = `
import sys, xml.etree.ElementTree as ET
def walk(e, d):
    print(" " * d + e.tag, sorted(e.attrib.items()), repr(e.text or ""), repr(e.tail or ""))
    for c in e:
        walk(c, d + 1)
for path in sys.argv[1:]:
    print("\x00")
    walk(ET.parse(path).getroot(), 0)
`

func TestRoundTripJudgedByExpat(t *testing.T) {
	python := testenv.Peer(t, "python3")
	dir := t.TempDir()
	var originals, rewrites []string
	for _, path := range corpusFiles(t) {
		f, err := ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The same tree in its own encoding and in UTF-16.
		for _, enc := range []Encoding{f.Encoding, UTF16LE} {
			f.Encoding = enc
			out := filepath.Join(dir, enc.String()+"-"+filepath.Base(path))
			if err := os.WriteFile(out, write(t, f), 0o644); err != nil {
				t.Fatal(err)
			}
			originals = append(originals, path)
			rewrites = append(rewrites, out)
		}
	}
	out, err := exec.Command(python, append([]string{"-c", expatDump}, append(originals, rewrites...)...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	dumps := strings.Split(string(out), "\x00\n")[1:]
	if len(dumps) != 2*len(originals) {
		t.Fatalf("%d dumps for %d files", len(dumps), 2*len(originals))
	}
	for i := range originals {
		if want, got := dumps[i], dumps[len(originals)+i]; want != got {
			t.Errorf("%s: expat sees a different document:\n%s", filepath.Base(rewrites[i]), firstDiff(want, got))
		}
	}
}

// TestWellFormednessAgreesWithExpat: on inputs chosen at the edges of XML
// (many found where encoding/xml is more lenient than XML), Parse accepts
// exactly what expat accepts, but for the listed, deliberate differences.
func TestWellFormednessAgreesWithExpat(t *testing.T) {
	python := testenv.Peer(t, "python3")
	deliberate := map[string]string{
		`<?xml version="2.0"?><a/>`: "only XML 1.0",
		`<p:a/>`:                    "unbound prefixes parse, and Validate reports xml.namespace-prefix",
		`<a b:c="1"/>`:              "unbound prefixes parse, and Validate reports xml.namespace-prefix",
		`<!DOCTYPE a><a/>`:          "DOCTYPE refused",
		`<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`: "DOCTYPE refused",
	}
	cases := []string{
		`<a b=""c=""/>`, `<a b="1"c="2"></a>`, `<a  b = "1" />`, "<a\n/>", `<a b='"'/>`,
		`<a><!-- x -- y --></a>`, `<a><!-- x ---></a>`, `<a/ >`, `<a></a >`, `<a>]]></a>`, `<a b="<"/>`,
		`<a b="&#1;"/>`, "<a>\x01</a>", `<a>&#xFFFE;</a>`, `<a>&#xD800;</a>`, `<a b="&#xDFFF;"/>`, `<a>&#x110000;</a>`,
		`<a><![CDATA[&#xD800;]]></a>`, `<a><![CDATA[x]]]></a>`, `<a>&amp</a>`, `<a><b></a></b>`,
		`<?xml version="2.0"?><a/>`, `<?xml version="1.0" standalone="maybe"?><a/>`, `<?xml encoding="utf-8"?><a/>`,
		`<?xml version='1.0' encoding='utf-8' ?><a/>`, `<?XML version="1.0"?><a/>`, `<?xml-stylesheet href="x"?><a/>`,
		`<a><?pi?></a>`, `<a><?xml x?></a>`, `<!-- c --><a/><!-- d -->`, "<a/>\x00", "<a>\xef\xbf\xbe</a>",
		`<a xmlns:p=""><p:b/></a>`, `<a xmlns=""/>`, `<p:a/>`, `<a b:c="1"/>`, `<a xmlns:xml="http://example"/>`,
		`<a xmlns:xml="http://www.w3.org/XML/1998/namespace"/>`, `<a xmlns:xmlns="x"/>`,
		`<a x:b="1" xmlns:x="u" y:b="2" xmlns:y="u"/>`, `<a b="1" xmlns:b="x" b:b="1" />`, `<a:b:c xmlns:a="x"/>`,
		`<×/>`, `<!DOCTYPE a><a/>`, `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`,
	}
	dir := t.TempDir()
	var paths []string
	for i, c := range cases {
		p := filepath.Join(dir, strconv.Itoa(i)+".xml")
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	script := `
import sys, xml.etree.ElementTree as ET
for p in sys.argv[1:]:
    try:
        ET.parse(p); print("ok")
    except ET.ParseError as e:
        print("refused")
`
	out, err := exec.Command(python, append([]string{"-c", script}, paths...)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	verdicts := strings.Fields(string(out))
	if len(verdicts) != len(cases) {
		t.Fatalf("%d verdicts for %d cases", len(verdicts), len(cases))
	}
	for i, c := range cases {
		_, err := Parse(strings.NewReader(c))
		ours, theirs := err == nil, verdicts[i] == "ok"
		why, known := deliberate[c]
		switch {
		case ours != theirs && !known:
			t.Errorf("%q: Parse accepts=%v (%v), expat accepts=%v", c, ours, err, theirs)
		case ours == theirs && known:
			t.Errorf("%q: listed as a deliberate difference (%s) but both agree", c, why)
		}
	}
}
