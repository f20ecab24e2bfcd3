package unattend

import (
	"bytes"
	"os"
	"testing"
)

// FuzzParse: whatever Parse accepts, WriteTo writes, and the result parses
// back to the same tree and validates without panicking.
func FuzzParse(f *testing.F) {
	for _, path := range corpusFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(utf16Bytes(`<?xml version="1.0" encoding="utf-16"?><unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="oobeSystem"/></unattend>`, false))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Add([]byte("<a><![CDATA[x]]>&#xD;<b c='&#x9;'/></a>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(bytes.NewReader(data))
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			return
		}
		file.Validate()
		var out bytes.Buffer
		if _, err := file.WriteTo(&out); err != nil {
			t.Fatalf("parsed but cannot write: %v", err)
		}
		again, err := Parse(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%q", err, out.Bytes())
		}
		if dump(file) != dump(again) {
			t.Fatalf("round trip changed the tree:\n%s", firstDiff(dump(file), dump(again)))
		}
		file.RedactSecrets()
		file.MarkPassProcessed("specialize")
		if _, err := file.WriteTo(&bytes.Buffer{}); err != nil {
			t.Fatalf("edited file cannot be written: %v", err)
		}
	})
}
