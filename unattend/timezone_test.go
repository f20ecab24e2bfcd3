package unattend

import (
	"strings"
	"testing"
)

func TestCheckTimeZone(t *testing.T) {
	for _, ok := range []string{"UTC", "W. Europe Standard Time", "Pacific Standard Time", "pacific standard time",
		"Pacific Standard Time_dstoff", "UTC+12", "UTC-02", "Central Standard Time (Mexico)", "Russia Time Zone 3"} {
		if err := CheckTimeZone(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for bad, hint := range map[string]string{
		"Europe/Berlin":           "IANA",
		"Pacific Time":            `did you mean "Pacific Standard Time"`,
		"W. Europe":               `did you mean "W. Europe Standard Time"`,
		"GMT":                     `did you mean "GMT Standard Time"`,
		"":                        "not a Windows time zone",
		"_dstoff":                 "not a Windows time zone",
		"Mars Standard Time":      "not a Windows time zone",
		"UTC_dstoff_dstoff":       "not a Windows time zone",
		"Pacific Standard Time ":  "not a Windows time zone",
		"Pacific  Standard  Time": "did you mean",
	} {
		err := CheckTimeZone(bad)
		if err == nil || !strings.Contains(err.Error(), hint) {
			t.Errorf("%q: %v, want an error saying %q", bad, err, hint)
		}
	}
}

func TestValidateWarnsOnUnknownTimeZone(t *testing.T) {
	doc := `<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="specialize">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <TimeZone>Europe/Berlin</TimeZone>
    </component>
  </settings>
</unattend>`
	f, err := Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, fi := range f.Validate() {
		if fi.ID == IDTimeZone {
			found = fi.Severity == SeverityWarning && fi.Line == 5
		}
	}
	if !found {
		t.Errorf("no time-zone warning on line 5: %v", f.Validate())
	}
	if _, err := Generate(GenerateOptions{TimeZone: "Europe/Berlin"}); err == nil {
		t.Error("Generate accepted an IANA time zone")
	}
}
