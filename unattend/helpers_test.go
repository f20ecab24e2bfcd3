package unattend

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reseal/reseal/internal/testenv"
)

// corpusFiles returns the answer files of the shared corpus.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	dir := testenv.Corpus(t, "unattend")
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no answer files in %s (%v)", dir, err)
	}
	sort.Strings(files)
	return files
}

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(testenv.Corpus(t, "unattend", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t testing.TB, data []byte) *File {
	t.Helper()
	f, err := Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

func write(t testing.TB, f *File) []byte {
	t.Helper()
	var b bytes.Buffer
	n, err := f.WriteTo(&b)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	if n != int64(b.Len()) {
		t.Fatalf("WriteTo reported %d bytes, wrote %d", n, b.Len())
	}
	return b.Bytes()
}

// dump renders the tree as one line per node with everything a round trip
// must keep: names with prefixes, namespaces, attributes in order, text,
// comments and processing instructions.
func dump(f *File) string {
	var b strings.Builder
	var walk func(n *Node, depth int)
	walk = func(n *Node, depth int) {
		ind := strings.Repeat(" ", depth)
		switch n.Kind {
		case ElementNode:
			fmt.Fprintf(&b, "%s<%s {%s}", ind, n.Name, n.Space)
			for _, a := range n.Attrs {
				fmt.Fprintf(&b, " %s{%s}=%q", a.Name, a.Space, a.Value)
			}
			b.WriteString("\n")
		case TextNode:
			fmt.Fprintf(&b, "%stext %q\n", ind, n.Text)
		case CommentNode:
			fmt.Fprintf(&b, "%scomment %q\n", ind, n.Text)
		case ProcInstNode:
			fmt.Fprintf(&b, "%s?%s %q\n", ind, n.Name.Local, n.Text)
		}
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	walk(f.Doc, 0)
	return b.String()
}

// lineOf returns the 1-based line of the first occurrence of marker in text.
func lineOf(t testing.TB, text, marker string) int {
	t.Helper()
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("marker %q not found", marker)
	}
	return 1 + strings.Count(text[:i], "\n")
}

func itoa(i int) string { return fmt.Sprint(i) }
