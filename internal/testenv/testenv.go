// Package testenv finds the real files and the peer tools that reseal's
// tests are judged by. Tests never carry copies of the corpus: they read it
// where it lives (../shared/corpus, or $RESEAL_CORPUS) and write only to
// copies in temporary directories.
//
// Locally a missing corpus or peer tool skips the test with a clear message;
// CI sets RESEAL_REQUIRE_CORPUS=1 and RESEAL_REQUIRE_PEERS=1 so that the same
// absence fails instead of passing silently.
package testenv

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// CorpusDir returns the root of the shared corpus, or "" when none is found.
func CorpusDir() string {
	if d := os.Getenv("RESEAL_CORPUS"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		return ""
	}
	// The repository sits beside shared/: walk up from this source file so
	// that tests find it whatever package directory they run in.
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	dir := filepath.Dir(file)
	for i := 0; i < 6; i++ {
		cand := filepath.Join(dir, "..", "shared", "corpus")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			abs, err := filepath.Abs(cand)
			if err == nil {
				return abs
			}
			return cand
		}
		dir = filepath.Dir(dir)
	}
	return ""
}

// Corpus returns the path of a file or folder of the corpus (elems are joined
// below the corpus root). It skips the test when the corpus or that path is
// missing, and fails it instead under RESEAL_REQUIRE_CORPUS=1.
func Corpus(tb testing.TB, elems ...string) string {
	tb.Helper()
	root := CorpusDir()
	if root == "" {
		missing(tb, "RESEAL_REQUIRE_CORPUS", "corpus not found: set RESEAL_CORPUS or place it at ../shared/corpus")
		return ""
	}
	p := filepath.Join(append([]string{root}, elems...)...)
	if _, err := os.Stat(p); err != nil {
		missing(tb, "RESEAL_REQUIRE_CORPUS", "corpus file missing: "+p)
		return ""
	}
	return p
}

// Peer returns the path of a peer tool (hivexsh, reglookup, wimlib-imagex,
// ...). It skips the test when the tool is not installed, and fails it
// instead under RESEAL_REQUIRE_PEERS=1.
func Peer(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(tb, "RESEAL_REQUIRE_PEERS", "peer tool "+name+" not installed (Debian: see .ci/run)")
		return ""
	}
	return p
}

// HavePeer reports whether a peer tool is installed, for tests that can use
// one but do not need it.
func HavePeer(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// CopyToTemp copies a file (typically from the corpus) into a fresh temporary
// directory and returns the copy's path; the original is never touched.
func CopyToTemp(tb testing.TB, src string) string {
	tb.Helper()
	return CopyInto(tb, src, tb.TempDir())
}

// CopyInto copies src into dir under its own base name and returns the
// new path. It is used to copy a hive together with its logs.
func CopyInto(tb testing.TB, src, dir string) string {
	tb.Helper()
	in, err := os.Open(src)
	if err != nil {
		tb.Fatalf("copy %s: %v", src, err)
	}
	defer in.Close()
	dst := filepath.Join(dir, filepath.Base(src))
	out, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		tb.Fatalf("copy %s: %v", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		tb.Fatalf("copy %s: %v", src, err)
	}
	if err := out.Close(); err != nil {
		tb.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

// CorpusHiveWithLogs copies a hive of the corpus (elems below hives/) and
// the transaction logs beside it (NAME.LOG, NAME.LOG1, NAME.LOG2, compared
// case-insensitively as Windows does) into a fresh temporary directory and
// returns the copy's path. Tests of log recovery edit only such copies.
func CorpusHiveWithLogs(tb testing.TB, elems ...string) string {
	tb.Helper()
	src := Corpus(tb, append([]string{"hives"}, elems...)...)
	dir := tb.TempDir()
	dst := CopyInto(tb, src, dir)
	entries, err := os.ReadDir(filepath.Dir(src))
	if err != nil {
		tb.Fatalf("list %s: %v", filepath.Dir(src), err)
	}
	prefix := strings.ToLower(filepath.Base(src)) + ".log"
	for _, e := range entries {
		if strings.HasPrefix(strings.ToLower(e.Name()), prefix) {
			CopyInto(tb, filepath.Join(filepath.Dir(src), e.Name()), dir)
		}
	}
	return dst
}

func missing(tb testing.TB, env, msg string) {
	tb.Helper()
	if os.Getenv(env) == "1" {
		tb.Fatalf("%s (required: %s=1)", msg, env)
	}
	tb.Skip(msg)
}

// PythonHivex returns a Python interpreter that can import Debian's hivex
// bindings (python3-hivex is built for /usr/bin/python3, which a pyenv or
// virtualenv python3 earlier on PATH cannot import). It skips or fails like
// Peer when none is found.
func PythonHivex(tb testing.TB) string {
	tb.Helper()
	for _, cand := range []string{"/usr/bin/python3", "python3"} {
		p, err := exec.LookPath(cand)
		if err != nil {
			continue
		}
		if exec.Command(p, "-c", "import hivex").Run() == nil {
			return p
		}
	}
	missing(tb, "RESEAL_REQUIRE_PEERS", "no python3 with the hivex module (Debian: python3-hivex)")
	return ""
}
