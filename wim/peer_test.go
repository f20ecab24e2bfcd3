package wim

import (
	"os/exec"
	"strings"
	"testing"
)

// runPeer runs a peer tool (wimlib-imagex ...) and fails the test with its
// output when it fails.
func runPeer(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
