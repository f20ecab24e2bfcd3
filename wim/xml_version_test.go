package wim

import "testing"

// TestXMLVersionWithoutSPBuild: a <VERSION> without SPBUILD (or with an
// empty one) reads as MAJOR.MINOR.BUILD, not with a trailing dot.
func TestXMLVersionWithoutSPBuild(t *testing.T) {
	for xml, want := range map[string]string{
		`<VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR><BUILD>22631</BUILD></VERSION>`:                        "10.0.22631",
		`<VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR><BUILD>22631</BUILD><SPBUILD></SPBUILD></VERSION>`:     "10.0.22631",
		`<VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR><BUILD>22631</BUILD><SPBUILD>2428</SPBUILD></VERSION>`: "10.0.22631.2428",
		`<VERSION><MAJOR>6</MAJOR><MINOR>1</MINOR><BUILD>7601</BUILD><SPBUILD>0</SPBUILD></VERSION>`:      "6.1.7601.0",
	} {
		infos, _, err := parseXMLData(`<WIM><IMAGE INDEX="1"><NAME>x</NAME><WINDOWS>` + xml + `</WINDOWS></IMAGE></WIM>`)
		if err != nil {
			t.Fatal(err)
		}
		if got := infos[1].Windows.Version; got != want {
			t.Errorf("%s: version %q, want %q", xml, got, want)
		}
	}
}
