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

// readImage returns image index of the WIM at wimPath, failing the test
// when it cannot be read.
func readImage(t *testing.T, wimPath string, index int) *Image {
	t.Helper()
	r, err := Open(wimPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := r.Image(index)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
