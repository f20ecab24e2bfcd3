package hive

import (
	"errors"
	"strings"
	"testing"
)

func TestQuoted(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{``, `""`},
		{`No\Such\Key`, `"No\Such\Key"`},
		{`Session Manager\Environment`, `"Session Manager\Environment"`},
		{`Ünïcødé\日本`, `"Ünïcødé\日本"`},
		{"tab\there", `"tab\there"`},
		{"nul\x00", `"nul\x00"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
	} {
		if got := quoted(c.in); got != c.want {
			t.Errorf("quoted(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestMessagesShowPathsAsWritten: the errors users see name keys and
// values with single backslashes.
func TestMessagesShowPathsAsWritten(t *testing.T) {
	h := New()
	defer h.Close()
	k, err := h.Root().CreateKey(`ControlSet001\Control`)
	if err != nil {
		t.Fatal(err)
	}
	_, openErr := h.Root().OpenKey(`No\Such\Key`)
	_, valueErr := k.Value(`C:\Windows\x.dll`)
	for _, c := range []struct {
		err  error
		want string
	}{
		{openErr, `key "No\Such\Key"`},
		{valueErr, `value "C:\Windows\x.dll" of key "ControlSet001\Control"`},
		{k.DeleteValue(`C:\x`), `value "C:\x" of key "ControlSet001\Control"`},
		{h.Root().DeleteKey(`ControlSet001\Nope`), `key "ControlSet001\Nope"`},
	} {
		if !errors.Is(c.err, ErrNotExist) || !strings.Contains(c.err.Error(), c.want) || strings.Contains(c.err.Error(), `\\`) {
			t.Errorf("error %v, want ErrNotExist naming %s", c.err, c.want)
		}
	}
	if _, err := h.Root().CreateKey(`A\\B`); err == nil || !strings.Contains(err.Error(), `"A\\B"`) {
		t.Errorf("empty path component: %v", err)
	}
}
