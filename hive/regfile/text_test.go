package regfile

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/reseal/reseal/hive"
)

func utf16z(s string) []byte {
	return append(appendUTF16(nil, s), 0, 0)
}

func toUTF16LE(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []Op
	}{
		{"keys and values", `Windows Registry Editor Version 5.00

; a comment
[HKEY_LOCAL_MACHINE\SOFTWARE\Foo]
"Str"="a \"quoted\" C:\\path"
@="default"
"Dw"=dword:0000002a
"Bin"=hex:01,02,ff
"Empty"=hex:
"Exp"=hex(2):25,00,00,00
"Multi"=hex(7):61,00,00,00,00,00
"Q"=hex(b):01,00,00,00,00,00,00,00
"Odd"=hex(80000001):0a
"Gone"=-

[-HKEY_LOCAL_MACHINE\SOFTWARE\Bar]
`, []Op{
			{Kind: CreateKey, Line: 4, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`},
			{Kind: SetValue, Line: 5, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`, Name: "Str", Type: hive.TypeString, Data: utf16z(`a "quoted" C:\path`)},
			{Kind: SetValue, Line: 6, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`, Name: "", Type: hive.TypeString, Data: utf16z("default")},
			{Kind: SetValue, Line: 7, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`, Name: "Dw", Type: hive.TypeDWord, Data: []byte{42, 0, 0, 0}},
			{Kind: SetValue, Line: 8, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`, Name: "Bin", Type: hive.TypeBinary, Data: []byte{1, 2, 255}},
			{Kind: SetValue, Line: 9, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`, Name: "Empty", Type: hive.TypeBinary},
			{Kind: SetValue, Line: 10, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`, Name: "Exp", Type: hive.TypeExpandString, Data: []byte{0x25, 0, 0, 0}},
			{Kind: SetValue, Line: 11, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`, Name: "Multi", Type: hive.TypeMultiString, Data: []byte{0x61, 0, 0, 0, 0, 0}},
			{Kind: SetValue, Line: 12, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`, Name: "Q", Type: hive.TypeQWord, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0}},
			{Kind: SetValue, Line: 13, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`, Name: "Odd", Type: 0x80000001, Data: []byte{10}},
			{Kind: DeleteValue, Line: 14, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Foo`, Name: "Gone"},
			{Kind: DeleteKey, Line: 16, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Bar`},
		}},
		{"continuation, CRLF, blanks around '=' and comments", "Windows Registry Editor Version 5.00\r\n\r\n[K]\r\n\"A\" = hex:01,02,\\\r\n  03,04,\\\r\n; inside\r\n  05 ; trailing\r\n\"B\"=dword:1 ; one\r\n", []Op{
			{Kind: CreateKey, Line: 3, Key: "K"},
			{Kind: SetValue, Line: 4, Key: "K", Name: "A", Type: hive.TypeBinary, Data: []byte{1, 2, 3, 4, 5}},
			{Kind: SetValue, Line: 8, Key: "K", Name: "B", Type: hive.TypeDWord, Data: []byte{1, 0, 0, 0}},
		}},
		{"key names with brackets, REGEDIT4 ANSI", "REGEDIT4\n\n[K\\a]b]\n\"x\"=hex(2):41,e9,00\n\"\xe9\"=\"\xe9\"\n", []Op{
			{Kind: CreateKey, Line: 3, Key: "K\\a]b"},
			{Kind: SetValue, Line: 4, Key: "K\\a]b", Name: "x", Type: hive.TypeExpandString, Data: []byte{0x41, 0, 0xe9, 0, 0, 0}},
			{Kind: SetValue, Line: 5, Key: "K\\a]b", Name: "é", Type: hive.TypeString, Data: utf16z("é")},
		}},
		{"hivex root key with trailing backslash", "Windows Registry Editor Version 5.00\n\n[\\]\n\n[\\SAM]\n@=hex(0):\n", []Op{
			{Kind: CreateKey, Line: 3, Key: `\`},
			{Kind: CreateKey, Line: 5, Key: `\SAM`},
			{Kind: SetValue, Line: 6, Key: `\SAM`, Type: hive.TypeNone},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, input := range [][]byte{[]byte(c.text), toUTF16LE(c.text, true)} {
				if strings.HasPrefix(c.text, "REGEDIT4") && input[0] == 0xFF {
					continue // ANSI bytes have no UTF-16 form
				}
				ops, _, err := Parse(bytes.NewReader(input), nil)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ops, c.want) {
					t.Errorf("got\n%+v\nwant\n%+v", ops, c.want)
				}
			}
		})
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	cases := []struct {
		text string
		line int
		msg  string
	}{
		{"", 1, "empty file"},
		{"hello\n", 1, "not a .reg file"},
		{"REGEDIT4\n\"a\"=\"b\"\n", 2, "before any [KEY]"},
		{"REGEDIT4\n[K\n", 2, "closing ']'"},
		{"REGEDIT4\n[K]\n\"a\"=\"b\n", 3, "closing '\"'"},
		{"REGEDIT4\n[K]\n\"a\"=\"C:\\Windows\"\n", 3, "unknown escape"},
		{"REGEDIT4\n[K]\n\"a\"=dword:123456789\n", 3, "1 to 8 hex digits"},
		{"REGEDIT4\n[K]\n\"a\"=dword:\n", 3, "1 to 8 hex digits"},
		{"REGEDIT4\n[K]\n\"a\"=hex:01,zz\n", 3, "bad hex byte"},
		{"REGEDIT4\n[K]\n\"a\"=hex:01,\\\n 02 03\n", 4, "expected ','"},
		{"REGEDIT4\n[K]\n\"a\"=hex(q):01\n", 3, "bad value type"},
		{"REGEDIT4\n[K]\n\"a\"=string\n", 3, "unknown value data"},
		{"REGEDIT4\n[K]\n\"a\"\n", 3, "expected '='"},
		{"REGEDIT4\n[-K]\n\"a\"=-\n", 3, "[-KEY] section"},
		{"REGEDIT4\n[]\n", 2, "empty key path"},
		{"REGEDIT4\n[K] x\n", 2, "after the key"},
		{"REGEDIT4\n[K]\nfoo\n", 3, "unexpected text"},
	}
	for _, c := range cases {
		_, _, err := Parse(strings.NewReader(c.text), nil)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: error %v, want a SyntaxError", c.text, err)
			continue
		}
		if se.Line != c.line || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%q: got %q, want line %d with %q", c.text, err, c.line, c.msg)
		}
	}
}

func TestParseBoundsValues(t *testing.T) {
	big := "REGEDIT4\n[K]\n\"a\"=hex:" + strings.Repeat("00,", 100) + "00\n"
	_, _, err := Parse(strings.NewReader(big), &ParseOptions{MaxValueSize: 50})
	if err == nil || !strings.Contains(err.Error(), "limit of 50 bytes") {
		t.Fatalf("got %v, want the value limit", err)
	}
	long := "REGEDIT4\n[K]\n\"a\"=\"" + strings.Repeat("x", 1000) + "\"\n"
	_, _, err = Parse(strings.NewReader(long), &ParseOptions{MaxValueSize: 50})
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("got %v, want a limit", err)
	}
}

func TestParserStreamsOneOpAtATime(t *testing.T) {
	p, err := NewParser(strings.NewReader("Windows Registry Editor Version 5.00\n[K]\n\"a\"=dword:1\n\"b\"=bad\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version() != Version5 || p.Encoding() != UTF8 {
		t.Errorf("version %v encoding %v", p.Version(), p.Encoding())
	}
	for i := 0; i < 2; i++ {
		if _, err := p.Next(); err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}
	_, err = p.Next()
	if err == nil {
		t.Fatal("bad line accepted")
	}
	if _, again := p.Next(); again != err {
		t.Errorf("error not sticky: %v then %v", err, again)
	}
}

func TestUTF16Decoding(t *testing.T) {
	text := "Windows Registry Editor Version 5.00\r\n[K\U0001F600]\r\n\"n\"=\"日本\"\r\n"
	for _, enc := range []struct {
		name string
		b    []byte
	}{
		{"LE with BOM", toUTF16LE(text, true)},
		{"LE without BOM", toUTF16LE(text, false)},
		{"UTF-8 with BOM", append([]byte{0xEF, 0xBB, 0xBF}, text...)},
		{"LE with trailing NUL", append(toUTF16LE(text, true), 0, 0)},
	} {
		ops, _, err := Parse(bytes.NewReader(enc.b), nil)
		if err != nil {
			t.Fatalf("%s: %v", enc.name, err)
		}
		if len(ops) != 2 || ops[0].Key != "K\U0001F600" || !bytes.Equal(ops[1].Data, utf16z("日本")) {
			t.Errorf("%s: %+v", enc.name, ops)
		}
	}
	odd := append(toUTF16LE(text, true), 'x')
	if _, _, err := Parse(bytes.NewReader(odd), nil); err == nil || !strings.Contains(err.Error(), "UTF-16") {
		t.Errorf("odd UTF-16 length: %v", err)
	}
}

// Lines exported by Windows regedit (public examples) that the encoder must
// reproduce byte for byte.
func TestEncoderMatchesRegedit(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf, UTF8)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.WriteKey(`HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\CrashControl`))
	must(e.WriteValue("AutoReboot", hive.TypeDWord, []byte{1, 0, 0, 0}))
	must(e.WriteValue("DumpFile", hive.TypeExpandString, utf16z(`%SystemRoot%\MEMORY.DMP`)))
	must(e.WriteValue("MinidumpDir", hive.TypeExpandString, utf16z(`%SystemRoot%\Minidump`)))
	must(e.WriteKey(`HKEY_CLASSES_ROOT\VBSFile\Shell\runas\command`))
	must(e.WriteValue("", hive.TypeExpandString, utf16z(`%SystemRoot%\System32\WScript.exe "%1" %*`)))
	must(e.WriteValue("Path", hive.TypeString, utf16z(`C:\Program Files\"x"`)))
	must(e.WriteValue("Q", hive.TypeQWord, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	must(e.WriteValue("N", hive.TypeNone, nil))
	must(e.WriteValue("B", hive.TypeBinary, []byte{0xde, 0xad}))
	must(e.WriteDeleteValue("Old"))
	must(e.WriteDeleteKey(`HKEY_CLASSES_ROOT\Gone`))
	must(e.Close())
	want := "Windows Registry Editor Version 5.00\r\n\r\n" +
		"[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\CrashControl]\r\n" +
		"\"AutoReboot\"=dword:00000001\r\n" +
		"\"DumpFile\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,\\\r\n" +
		"  74,00,25,00,5c,00,4d,00,45,00,4d,00,4f,00,52,00,59,00,2e,00,44,00,4d,00,50,\\\r\n" +
		"  00,00,00\r\n" +
		"\"MinidumpDir\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,\\\r\n" +
		"  00,74,00,25,00,5c,00,4d,00,69,00,6e,00,69,00,64,00,75,00,6d,00,70,00,00,00\r\n" +
		"\r\n" +
		"[HKEY_CLASSES_ROOT\\VBSFile\\Shell\\runas\\command]\r\n" +
		"@=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,25,\\\r\n" +
		"  00,5c,00,53,00,79,00,73,00,74,00,65,00,6d,00,33,00,32,00,5c,00,57,00,53,00,\\\r\n" +
		"  63,00,72,00,69,00,70,00,74,00,2e,00,65,00,78,00,65,00,20,00,22,00,25,00,31,\\\r\n" +
		"  00,22,00,20,00,25,00,2a,00,00,00\r\n" +
		"\"Path\"=\"C:\\\\Program Files\\\\\\\"x\\\"\"\r\n" +
		"\"Q\"=hex(b):01,02,03,04,05,06,07,08\r\n" +
		"\"N\"=hex(0):\r\n" +
		"\"B\"=hex:de,ad\r\n" +
		"\"Old\"=-\r\n" +
		"\r\n" +
		"[-HKEY_CLASSES_ROOT\\Gone]\r\n" +
		"\r\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, line := range strings.Split(want, "\r\n") {
		if len(line) > 80 {
			t.Errorf("line longer than 80 columns: %q", line)
		}
	}
}

func TestEncoderUTF16(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf, UTF16LE)
	if err := e.WriteKey("K\u00e9"); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	want := toUTF16LE("Windows Registry Editor Version 5.00\r\n\r\n[K\u00e9]\r\n\r\n", true)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("got % x\nwant % x", buf.Bytes(), want)
	}
}

// Strings are written as "..." only when that reproduces the stored bytes.
func TestEncoderStringFallsBackToHex(t *testing.T) {
	cases := []struct {
		data []byte
		want string
	}{
		{utf16z("ok"), `"v"="ok"`},
		{utf16z(""), `"v"=""`},
		{nil, `"v"=hex(1):`},
		{[]byte{'a', 0}, `"v"=hex(1):61,00`},                         // no terminator
		{[]byte{'a', 0, 0, 0, 0, 0}, `"v"=hex(1):61,00,00,00,00,00`}, // two NULs
		{[]byte{'a', 0, 0}, `"v"=hex(1):61,00,00`},                   // odd length
		{utf16z("a\nb"), `"v"=hex(1):61,00,0a,00,62,00,00,00`},       // line break
		{[]byte{0x00, 0xD8, 0, 0}, `"v"=hex(1):00,d8,00,00`},         // lone surrogate
		{utf16z("\U0001F600"), "\"v\"=\"\U0001F600\""},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		e := NewEncoder(&buf, UTF8)
		e.WriteKey("K")
		e.WriteValue("v", hive.TypeString, c.data)
		e.Close()
		lines := strings.Split(buf.String(), "\r\n")
		if lines[3] != c.want {
			t.Errorf("% x: got %s, want %s", c.data, lines[3], c.want)
		}
		ops, _, err := Parse(&buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := ops[1].Data; !bytes.Equal(got, c.data) {
			t.Errorf("% x came back as % x", c.data, got)
		}
	}
}

// encodeOps writes ops back as text, for round-trip checks.
func encodeOps(ops []Op, enc Encoding) ([]byte, error) {
	var buf bytes.Buffer
	e := NewEncoder(&buf, enc)
	for _, op := range ops {
		var err error
		switch op.Kind {
		case CreateKey:
			err = e.WriteKey(op.Key)
		case DeleteKey:
			err = e.WriteDeleteKey(op.Key)
		case SetValue:
			err = e.WriteValue(op.Name, op.Type, op.Data)
		case DeleteValue:
			err = e.WriteDeleteValue(op.Name)
		}
		if err != nil {
			return nil, err
		}
	}
	err := e.Close()
	return buf.Bytes(), err
}

func TestEncodeParseRoundTrip(t *testing.T) {
	long := make([]byte, 1000)
	for i := range long {
		long[i] = byte(i * 7)
	}
	ops := []Op{
		{Kind: CreateKey, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\Ünïcode ключ`},
		{Kind: SetValue, Name: "a\"b\\c", Type: hive.TypeString, Data: utf16z(`x"y\z`)},
		{Kind: SetValue, Name: strings.Repeat("long name ", 10), Type: hive.TypeBinary, Data: long},
		{Kind: SetValue, Name: "line\nbreak", Type: hive.TypeDWord, Data: []byte{1, 2, 3}},
		{Kind: SetValue, Name: "t", Type: 0xffffffff, Data: []byte{1}},
		{Kind: DeleteValue, Name: ""},
		{Kind: DeleteKey, Key: `HKEY_LOCAL_MACHINE\SOFTWARE\X`},
	}
	for _, enc := range []Encoding{UTF8, UTF16LE} {
		text, err := encodeOps(ops, enc)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := Parse(bytes.NewReader(text), nil)
		if err != nil {
			t.Fatalf("%v: %v", enc, err)
		}
		if len(got) != len(ops) {
			t.Fatalf("%v: %d ops back, want %d", enc, len(got), len(ops))
		}
		for i := range ops {
			g, w := got[i], ops[i]
			if g.Kind != w.Kind || g.Name != w.Name || g.Type != w.Type || !bytes.Equal(g.Data, w.Data) || (w.Key != "" && g.Key != w.Key) {
				t.Errorf("%v op %d: got %+v, want %+v", enc, i, g, w)
			}
		}
	}
}

func TestEncoderRefusesLineBreakInKey(t *testing.T) {
	e := NewEncoder(io.Discard, UTF8)
	if err := e.WriteKey("a\nb"); err == nil {
		t.Error("key with a line break accepted")
	}
}
