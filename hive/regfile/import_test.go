package regfile

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/reseal/reseal/hive"
)

func TestRelativePath(t *testing.T) {
	cases := []struct {
		key, prefix, want, err string
	}{
		{`HKEY_LOCAL_MACHINE\SYSTEM\Select`, `HKEY_LOCAL_MACHINE\SYSTEM`, `Select`, ""},
		{`hkey_local_machine\system\Select`, `HKEY_LOCAL_MACHINE\SYSTEM\`, `Select`, ""},
		{`HKLM\SYSTEM\A\B`, `HKEY_LOCAL_MACHINE\SYSTEM`, `A\B`, ""},
		{`HKEY_LOCAL_MACHINE\SYSTEM`, `HKLM\SYSTEM`, ``, ""},
		{`HKEY_LOCAL_MACHINE\SYSTEM\`, `HKEY_LOCAL_MACHINE\SYSTEM`, ``, ""},
		{`HKEY_LOCAL_MACHINE\SYSTEMX\A`, `HKEY_LOCAL_MACHINE\SYSTEM`, ``, "outside the prefix"},
		{`HKEY_LOCAL_MACHINE\SOFTWARE\A`, `HKEY_LOCAL_MACHINE\SYSTEM`, ``, "outside the prefix"},
		{`\`, ``, ``, ""},
		{`\Select`, ``, `Select`, ""},
		{`Select\x`, ``, `Select\x`, ""},
		{`HKEY_LOCAL_MACHINE\SYSTEM\Select`, ``, ``, "--prefix 'HKEY_LOCAL_MACHINE\\SYSTEM'"},
		{`HKLM\x`, ``, ``, "registry root"},
		{`\a\\b`, ``, ``, "empty name"},
	}
	for _, c := range cases {
		got, err := RelativePath(c.key, c.prefix)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("RelativePath(%q, %q) = %q, %v; want error with %q", c.key, c.prefix, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("RelativePath(%q, %q) = %q, %v; want %q", c.key, c.prefix, got, err, c.want)
		}
	}
}

const sample = `Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App]
@="default"
"Name"="reseal"
"Count"=dword:00000003
"Path"=hex(2):25,00,50,00,25,00,00,00
"List"=hex(7):61,00,00,00,62,00,00,00,00,00
"Big"=hex(b):00,00,00,00,01,00,00,00

[HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App\Sub\Deeper]
"x"=hex:01

[HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\Other]
`

func importString(t *testing.T, root *hive.Key, text string, opts *ImportOptions) ImportStats {
	t.Helper()
	stats, err := Import(context.Background(), root, strings.NewReader(text), opts)
	if err != nil {
		t.Fatal(err)
	}
	return stats
}

func TestImportCreatesDeletesAndCounts(t *testing.T) {
	h := hive.New()
	opts := &ImportOptions{Prefix: `HKEY_LOCAL_MACHINE\SOFTWARE`}
	stats := importString(t, h.Root(), sample, opts)
	want := ImportStats{KeysCreated: 5, ValuesSet: 7, Ops: 10}
	if stats != want {
		t.Errorf("first import: %+v, want %+v", stats, want)
	}
	app, err := h.Root().OpenKey(`Vendor\App`)
	if err != nil {
		t.Fatal(err)
	}
	for name, check := range map[string]func(hive.Value) bool{
		"":      func(v hive.Value) bool { s, _ := v.String(); return v.Type == hive.TypeString && s == "default" },
		"Count": func(v hive.Value) bool { n, _ := v.Uint64(); return v.Type == hive.TypeDWord && n == 3 },
		"Path":  func(v hive.Value) bool { s, _ := v.String(); return v.Type == hive.TypeExpandString && s == "%P%" },
		"List": func(v hive.Value) bool {
			ss, _ := v.Strings()
			return v.Type == hive.TypeMultiString && strings.Join(ss, "|") == "a|b"
		},
		"Big": func(v hive.Value) bool { n, _ := v.Uint64(); return v.Type == hive.TypeQWord && n == 1<<32 },
	} {
		v, err := app.Value(name)
		if err != nil || !check(v) {
			t.Errorf("value %q: %+v, %v", name, v, err)
		}
	}

	// The same file again changes nothing.
	if stats := importString(t, h.Root(), sample, opts); stats.ValuesUnchanged != 7 || stats.ValuesSet != 0 || stats.KeysCreated != 0 {
		t.Errorf("second import: %+v", stats)
	}

	var changes []Change
	opts.OnChange = func(c Change) { changes = append(changes, c) }
	stats = importString(t, h.Root(), `Windows Registry Editor Version 5.00

[-HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App\Sub]
[-HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\Missing]

[HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App]
"Name"=-
"Absent"=-
"Count"=dword:00000004
`, opts)
	if want := (ImportStats{KeysDeleted: 1, ValuesDeleted: 1, ValuesSet: 1, Ops: 6}); stats != want {
		t.Errorf("delete import: %+v, want %+v", stats, want)
	}
	if len(changes) != 3 || changes[0].Kind != DeleteKey || changes[0].Path != `Vendor\App\Sub` || changes[0].Line != 3 ||
		changes[1].Kind != DeleteValue || changes[1].Name != "Name" || changes[2].Kind != SetValue || changes[2].Line != 9 {
		t.Errorf("changes: %+v", changes)
	}
	if _, err := h.Root().OpenKey(`Vendor\App\Sub`); !errors.Is(err, hive.ErrNotExist) {
		t.Errorf("deleted key still opens: %v", err)
	}
	if _, err := app.Value("Name"); !errors.Is(err, hive.ErrNotExist) {
		t.Errorf("deleted value still there: %v", err)
	}
}

func TestImportErrorsNameTheLine(t *testing.T) {
	cases := []struct{ text, prefix, want string }{
		{"REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\n", `HKEY_LOCAL_MACHINE\SYSTEM`, "line 3: key [HKEY_LOCAL_MACHINE\\SOFTWARE\\A] is outside the prefix"},
		{"REGEDIT4\n\n[-HKEY_LOCAL_MACHINE\\SYSTEM]\n", `HKEY_LOCAL_MACHINE\SYSTEM`, "line 3: [-HKEY_LOCAL_MACHINE\\SYSTEM]: refusing to delete the hive's root key"},
		{"REGEDIT4\n[\\A]\n\"a\"=hex:zz\n", ``, "line 3: bad hex byte"},
	}
	for _, c := range cases {
		_, err := Import(context.Background(), hive.New().Root(), strings.NewReader(c.text), &ImportOptions{Prefix: c.prefix})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}

func TestExportLayout(t *testing.T) {
	h := hive.New()
	importString(t, h.Root(), sample, &ImportOptions{Prefix: `HKLM\SOFTWARE`})
	var buf bytes.Buffer
	if err := Export(context.Background(), &buf, h.Root(), &ExportOptions{Encoding: UTF8}); err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(`Windows Registry Editor Version 5.00

[\]

[\Vendor]

[\Vendor\App]
@="default"
"Name"="reseal"
"Count"=dword:00000003
"Path"=hex(2):25,00,50,00,25,00,00,00
"List"=hex(7):61,00,00,00,62,00,00,00,00,00
"Big"=hex(b):00,00,00,00,01,00,00,00

[\Vendor\App\Sub]

[\Vendor\App\Sub\Deeper]
"x"=hex:01

[\Vendor\Other]

`, "\n", "\r\n")
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}

	// A subtree with a prefix, in UTF-16LE.
	app, _ := h.Root().OpenKey(`Vendor\App\Sub`)
	buf.Reset()
	if err := Export(context.Background(), &buf, app, &ExportOptions{Prefix: `HKEY_LOCAL_MACHINE\SOFTWARE\`}); err != nil {
		t.Fatal(err)
	}
	want = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App\\Sub]\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App\\Sub\\Deeper]\r\n\"x\"=hex:01\r\n\r\n"
	if !bytes.Equal(buf.Bytes(), toUTF16LE(want, true)) {
		t.Errorf("UTF-16 subtree export differs:\n%q", buf.String())
	}
}
