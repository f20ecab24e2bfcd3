// Package catalog knows the components and settings of Windows answer files:
// for each setting, the configuration passes it is valid in, its enumerated
// values, and whether it is a list item. The table is generated from the
// shared catalog (Microsoft's Unattended Windows Setup Reference, December
// 2018) and completed by the hand-kept additions in additions.go.
package catalog

//go:generate go run ../gencatalog -in ../../../../shared/catalog/unattend-catalog.json -out catalog_gen.go

import (
	"strconv"
	"strings"
	"sync"
)

// Passes are the configuration passes, in the order Windows runs them; a
// PassSet's bit i stands for Passes[i].
var Passes = [...]string{"windowsPE", "offlineServicing", "generalize", "specialize", "auditSystem", "auditUser", "oobeSystem"}

// PassSet is a set of configuration passes.
type PassSet uint8

// PassBit returns the set holding only pass, and false for an unknown pass.
func PassBit(pass string) (PassSet, bool) {
	for i, p := range Passes {
		if p == pass {
			return 1 << i, true
		}
	}
	return 0, false
}

// Has reports whether pass is in the set.
func (s PassSet) Has(pass string) bool {
	b, ok := PassBit(pass)
	return ok && s&b != 0
}

// Names lists the passes of the set in Windows' order.
func (s PassSet) Names() []string {
	var out []string
	for i, p := range Passes {
		if s&(1<<i) != 0 {
			out = append(out, p)
		}
	}
	return out
}

// Setting is one element of a component's settings tree.
type Setting struct {
	Component  string   // as the reference spells it, e.g. "Microsoft-Windows-Shell-Setup"
	Path       string   // elements below the component, joined by "/"
	Passes     PassSet  // 0 when the reference did not say (treat as any pass)
	Values     []string // enumerated values; empty when free
	ListItem   bool     // carries wcm:action
	KeyValue   bool     // list item keyed by wcm:keyValue
	Deprecated bool
	Added      bool // from the project's own additions, not the 2018 reference
}

// Catalog is an immutable set of components and settings.
type Catalog struct {
	Source     string
	components map[string]string   // lower-case name -> name as spelled
	settings   map[string]*Setting // lower-case component + "/" + path
	folded     map[string]*Setting // lower-case component + "/" + lower-case path
}

// Default returns the embedded catalog. It is built once and never changed.
var Default = sync.OnceValue(func() *Catalog {
	c, err := parse(generatedSource, generatedTable)
	if err != nil {
		panic("catalog: embedded table is corrupt: " + err.Error()) // caught by the tests
	}
	for _, a := range additions {
		c.add(a.Setting)
	}
	return c
})

func parse(source, table string) (*Catalog, error) {
	c := &Catalog{Source: source, components: map[string]string{}, settings: map[string]*Setting{}, folded: map[string]*Setting{}}
	for n, line := range strings.Split(strings.TrimSuffix(table, "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			return nil, &tableError{n + 1, "want 4 fields"}
		}
		mask, err := strconv.Atoi(f[1])
		if err != nil || mask < 0 || mask >= 1<<len(Passes) {
			return nil, &tableError{n + 1, "bad pass mask"}
		}
		if f[2] == "C" {
			c.components[strings.ToLower(f[0])] = f[0]
			continue
		}
		comp, path, ok := strings.Cut(f[0], "/")
		if !ok {
			return nil, &tableError{n + 1, "no component"}
		}
		s := &Setting{
			Component:  comp,
			Path:       path,
			Passes:     PassSet(mask),
			ListItem:   strings.Contains(f[2], "L"),
			KeyValue:   strings.Contains(f[2], "K"),
			Deprecated: strings.Contains(f[2], "D"),
		}
		if f[3] != "" {
			s.Values = strings.Split(f[3], "|")
		}
		c.add(*s)
	}
	return c, nil
}

func (c *Catalog) add(s Setting) {
	lc := strings.ToLower(s.Component)
	if _, ok := c.components[lc]; !ok {
		c.components[lc] = s.Component
	}
	c.settings[lc+"/"+s.Path] = &s
	c.folded[lc+"/"+strings.ToLower(s.Path)] = &s
}

type tableError struct {
	line int
	msg  string
}

func (e *tableError) Error() string { return "line " + strconv.Itoa(e.line) + ": " + e.msg }

// Component reports whether a component is known, and its spelling in the
// reference. Component names are compared without regard to case.
func (c *Catalog) Component(name string) (string, bool) {
	n, ok := c.components[strings.ToLower(name)]
	return n, ok
}

// Lookup returns the setting at path ("UserAccounts/AdministratorPassword")
// of a component. Element names are case-sensitive, as in XML.
func (c *Catalog) Lookup(component, path string) (*Setting, bool) {
	s, ok := c.settings[strings.ToLower(component)+"/"+path]
	return s, ok
}

// LookupFold finds a setting whose path differs only in case, to suggest
// the right spelling of a setting Lookup does not know.
func (c *Catalog) LookupFold(component, path string) (*Setting, bool) {
	s, ok := c.folded[strings.ToLower(component)+"/"+strings.ToLower(path)]
	return s, ok
}

// Len is the number of settings.
func (c *Catalog) Len() int { return len(c.settings) }

// ValueAllowed reports whether v is one of the setting's enumerated values
// (always true when it enumerates none). The comparison ignores case and
// surrounding space: Windows Setup reads "True" and "true" alike, and the
// reference itself spells the same boolean both ways.
func (s *Setting) ValueAllowed(v string) bool {
	if len(s.Values) == 0 {
		return true
	}
	v = strings.TrimSpace(v)
	for _, a := range s.Values {
		if strings.EqualFold(a, v) {
			return true
		}
	}
	return false
}
