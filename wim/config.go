package wim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"
)

// CaptureConfig is a capture configuration file in the WimScript.ini format
// that DISM and wimlib read: [ExclusionList] globs leave files and
// directories out, [ExclusionException] globs keep them in anyway. Other
// sections are accepted and ignored.
//
// A glob with a separator ('\' or '/') is matched against the whole path from
// the capture root, whether or not it starts with one: "\Windows\Prefetch"
// and "Windows\Prefetch" (as WimScript.ini users often write it) are the
// same; a glob without one ("*.tmp", "Thumbs.db") is matched against the
// name alone, in any directory. '*' and '?' do not cross separators;
// matching ignores case, as Windows does; drive letters are ignored.
type CaptureConfig struct {
	Exclusions []string
	Exceptions []string
}

// DefaultCaptureConfig is what is excluded when no configuration is given:
// the page, hibernation and swap files, restore points, recycle bins and the
// offline files cache.
func DefaultCaptureConfig() *CaptureConfig {
	return &CaptureConfig{Exclusions: []string{
		`\$ntfs.log`, `\hiberfil.sys`, `\pagefile.sys`, `\swapfile.sys`, `\System Volume Information`,
		`\RECYCLER`, `\$RECYCLE.BIN`, `\$Recycle.Bin`, `\Windows\CSC`,
	}}
}

// ParseCaptureConfig reads a WimScript.ini file (UTF-8, or UTF-16LE with a BOM).
func ParseCaptureConfig(r io.Reader) (*CaptureConfig, error) {
	data, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return nil, err
	}
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0xfe {
		text, err := decodeXMLData(data)
		if err != nil {
			return nil, fmt.Errorf("configuration file: %w", err)
		}
		data = []byte(text)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("configuration file is neither UTF-8 nor UTF-16LE")
	}
	c := &CaptureConfig{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		if s[0] == '[' {
			if !strings.HasSuffix(s, "]") {
				return nil, fmt.Errorf("configuration file line %d: unterminated section %q", line, s)
			}
			section = strings.ToLower(strings.TrimSpace(s[1 : len(s)-1]))
			continue
		}
		if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
			s = s[1 : len(s)-1]
		}
		switch section {
		case "exclusionlist":
			c.Exclusions = append(c.Exclusions, s)
		case "exclusionexception":
			c.Exceptions = append(c.Exceptions, s)
		case "":
			return nil, fmt.Errorf("configuration file line %d: %q is outside any section", line, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	for _, g := range append(append([]string(nil), c.Exclusions...), c.Exceptions...) {
		if _, err := path.Match(normalizeGlob(g), "x"); err != nil {
			return nil, fmt.Errorf("configuration file: bad glob %q: %w", g, err)
		}
	}
	return c, nil
}

// normalizeGlob lowercases a glob, turns '\' into '/' and drops a drive letter.
func normalizeGlob(g string) string {
	if len(g) >= 2 && g[1] == ':' && isLetter(g[0]) {
		g = g[2:]
	}
	g = strings.ReplaceAll(g, `\`, "/")
	for strings.Contains(g, "//") {
		g = strings.ReplaceAll(g, "//", "/")
	}
	if len(g) > 1 {
		g = strings.TrimSuffix(g, "/")
	}
	if strings.Contains(g, "/") && !strings.HasPrefix(g, "/") {
		g = "/" + g // relative to the capture root
	}
	return strings.ToLower(g)
}

// matcher answers whether an image path is excluded, and counts what each
// exclusion glob matched, so that a glob that matched nothing (a typo, a
// path that is not there) can be reported.
type matcher struct {
	excl, exc []string
	given     []string // the exclusion globs as written, for messages
	hits      []int    // per exclusion glob: entries it excluded
	user      []bool   // per exclusion glob: given by the user (not a default)
}

func newMatcher(c *CaptureConfig, extra, quiet []string, configIsUser bool) *matcher {
	m := &matcher{}
	add := func(g string, user bool) {
		m.excl = append(m.excl, normalizeGlob(g))
		m.given = append(m.given, g)
		m.hits = append(m.hits, 0)
		m.user = append(m.user, user)
	}
	if c != nil {
		for _, g := range c.Exclusions {
			add(g, configIsUser)
		}
		for _, g := range c.Exceptions {
			m.exc = append(m.exc, normalizeGlob(g))
		}
	}
	for _, g := range extra {
		add(g, true)
	}
	for _, g := range quiet {
		add(g, false)
	}
	return m
}

// globMatch returns the index of the first glob matching imagePath, or -1.
func globMatch(globs []string, imagePath string) int {
	lp := strings.ToLower(imagePath)
	name := lp[strings.LastIndexByte(lp, '/')+1:]
	for i, g := range globs {
		target := name
		if strings.HasPrefix(g, "/") {
			target = lp
		}
		if ok, _ := path.Match(g, target); ok {
			return i
		}
	}
	return -1
}

// excluded reports whether the entry at imagePath ("/dir/name") is left out.
func (m *matcher) excluded(imagePath string) bool {
	if len(m.excl) == 0 {
		return false
	}
	i := globMatch(m.excl, imagePath)
	if i < 0 || globMatch(m.exc, imagePath) >= 0 {
		return false
	}
	m.hits[i]++
	return true
}

// unmatched lists the user's exclusion globs that excluded nothing.
func (m *matcher) unmatched() []string {
	var out []string
	for i, g := range m.given {
		if m.user[i] && m.hits[i] == 0 {
			out = append(out, g)
		}
	}
	return out
}

// Excludes reports whether the configuration leaves out the entry at
// imagePath ("/dir/name", or with backslashes) itself; an entry below an
// excluded directory is left out with it, which callers walking a tree
// see by stopping at the directory.
func (c *CaptureConfig) Excludes(imagePath string) bool {
	p := "/" + strings.Trim(strings.ReplaceAll(imagePath, `\`, "/"), "/")
	return newMatcher(c, nil, nil, false).excluded(p)
}
