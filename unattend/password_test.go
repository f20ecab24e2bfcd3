package unattend

import (
	"strings"
	"testing"
)

func TestCorpusPasswordsDecode(t *testing.T) {
	f := mustParse(t, readCorpus(t, vagrant))
	tests := []struct{ path, element string }{
		{"UserAccounts/AdministratorPassword/Value", "AdministratorPassword"},
		{"UserAccounts/LocalAccounts/LocalAccount/Password/Value", "Password"},
		{"AutoLogon/Password/Value", "Password"},
	}
	for _, tt := range tests {
		enc, ok := f.Setting("oobeSystem", "amd64", "Microsoft-Windows-Shell-Setup", tt.path)
		if !ok {
			t.Fatalf("%s missing", tt.path)
		}
		got, err := DecodePassword(enc, tt.element)
		if err != nil || got != "vagrant" {
			t.Errorf("%s: %q, %v; want vagrant", tt.path, got, err)
		}
		if again := EncodePassword("vagrant", tt.element); again != enc {
			t.Errorf("EncodePassword = %s, the file has %s", again, enc)
		}
	}
}

func TestPasswordRoundTrip(t *testing.T) {
	for _, pw := range []string{"", "vagrant", "P@ss w0rd!", "Größe-日本-𝄞", strings.Repeat("x", 300)} {
		for _, el := range []string{"Password", "AdministratorPassword"} {
			got, err := DecodePassword(EncodePassword(pw, el), el)
			if err != nil || got != pw {
				t.Errorf("%q/%s: %q, %v", pw, el, got, err)
			}
		}
	}
}

func TestDecodePasswordRefuses(t *testing.T) {
	tests := []struct{ name, encoded, element string }{
		{"not base64", "vagrant!", "Password"},
		{"odd length", "dgBhAGc=", "Password"}, // 5 bytes
		{"wrong element", EncodePassword("vagrant", "Password"), "AdministratorPassword"},
		{"no element", EncodePassword("vagrant", ""), "Password"},
		{"lone surrogate", "ANg=", ""},
	}
	for _, tt := range tests {
		if got, err := DecodePassword(tt.encoded, tt.element); err == nil {
			t.Errorf("%s: decoded to %q", tt.name, got)
		}
	}
}

func TestRedactSecrets(t *testing.T) {
	for _, name := range []string{vagrant, "packer-windows_2022_Autounattend.xml", "mwrock_postunattend.xml"} {
		f := mustParse(t, readCorpus(t, name))
		var before []string
		var names []string
		walkElements(f.Root, func(n *Node) bool {
			if passwordNode(n) {
				before = append(before, n.Child("Value").Content())
				names = append(names, n.Name.Local)
			}
			return true
		})
		if len(before) == 0 {
			t.Fatalf("%s: no passwords", name)
		}
		f.RedactSecrets()
		out := string(write(t, f))
		for _, secret := range before {
			if secret != "" && strings.Contains(out, "<Value>"+secret+"</Value>") {
				t.Errorf("%s: %q survives redaction", name, secret)
			}
		}
		// Windows' form (what PrivescCheck and others expect to find in
		// Panther\unattend.xml): the structure holds only the marker.
		for _, el := range names {
			if !strings.Contains(out, "<"+el+">"+Redacted+"</"+el+">") {
				t.Errorf("%s: no <%s>%s</%s>", name, el, Redacted, el)
			}
		}
		if strings.Contains(out, "<PlainText>") {
			t.Errorf("%s: PlainText left behind", name)
		}
		g := mustParse(t, []byte(out))
		if fs := g.Validate(); HasErrors(fs) {
			t.Errorf("%s: redacted file has errors: %v", name, fs)
		}
		g.RedactSecrets()
		if again := string(write(t, g)); again != out {
			t.Errorf("%s: redaction is not idempotent", name)
		}
	}
	// Plain string secrets (domain join credentials) too.
	f := mustParse(t, []byte(`<unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="specialize"><component name="Microsoft-Windows-UnattendedJoin" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS"><Identification><Credentials><Domain>corp</Domain><Password>hunter2</Password><Username>joiner</Username></Credentials><MachinePassword>m</MachinePassword></Identification></component></settings></unattend>`))
	f.RedactSecrets()
	if v, _ := f.Setting("specialize", "", "Microsoft-Windows-UnattendedJoin", "Identification/Credentials/Password"); v != Redacted {
		t.Errorf("join password = %q", v)
	}
	if v, _ := f.Setting("specialize", "", "Microsoft-Windows-UnattendedJoin", "Identification/MachinePassword"); v != Redacted {
		t.Errorf("machine password = %q", v)
	}
	if v, _ := f.Setting("specialize", "", "Microsoft-Windows-UnattendedJoin", "Identification/Credentials/Username"); v != "joiner" {
		t.Errorf("user name changed to %q", v)
	}
}

func TestMarkPassProcessed(t *testing.T) {
	f := mustParse(t, readCorpus(t, "mwrock_postunattend.xml"))
	f.MarkPassProcessed("generalize")
	f.MarkPassProcessed("generalize") // idempotent
	out := string(write(t, f))
	if !strings.Contains(out, `<settings pass="generalize" wasPassProcessed="true">`) {
		t.Errorf("generalize not marked:\n%.300s", out)
	}
	if strings.Count(out, "wasPassProcessed") != 1 {
		t.Error("other passes marked, or the attribute repeated")
	}
	if fs := mustParse(t, []byte(out)).Validate(); HasErrors(fs) {
		t.Errorf("marked file has errors: %v", fs)
	}
}

func TestRedactPassOnlyTouchesThatPass(t *testing.T) {
	data := strings.Replace(string(readCorpus(t, "mwrock_postunattend.xml")), `<settings pass="specialize">`, `<settings pass="specialize">
        <component name="Microsoft-Windows-UnattendedJoin" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
            <Identification><Credentials><Domain>corp</Domain><Password>hunter2</Password><Username>joiner</Username></Credentials></Identification>
        </component>`, 1)
	f := mustParse(t, []byte(data))
	f.RedactPass("specialize")
	if v, _ := f.Setting("specialize", "amd64", "Microsoft-Windows-UnattendedJoin", "Identification/Credentials/Password"); v != Redacted {
		t.Errorf("specialize password = %q", v)
	}
	if v, _ := f.Setting("oobeSystem", "amd64", "Microsoft-Windows-Shell-Setup", "UserAccounts/AdministratorPassword/Value"); v != "vagrant" {
		t.Errorf("oobeSystem password = %q, want it kept", v)
	}
}
