package winimage

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// IASConfigPath is the Network Policy Server configuration.
const IASConfigPath = "Windows/System32/ias/ias.xml"

// maxIASConfig bounds how much of ias.xml is read.
const maxIASConfig = 64 << 20

// RadiusConfig lists the RADIUS clients and remote RADIUS server groups the
// NPS configuration holds (the <Entry name=...> elements below
// <RadiusClients> and <RadiusServerGroups>, at any depth). A volume without
// ias.xml has none.
func (v *Volume) RadiusConfig() (clients, groups []string, err error) {
	data, err := v.ReadFile(IASConfigPath, maxIASConfig)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return parseRadiusConfig(data)
}

func parseRadiusConfig(data []byte) (clients, groups []string, err error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) { return in, nil }
	var stack []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return clients, groups, nil
		}
		if err != nil {
			line, _ := dec.InputPos()
			return nil, nil, fmt.Errorf("%s line %d: %w", IASConfigPath, line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > 256 {
				return nil, nil, fmt.Errorf("%s: elements nested deeper than 256", IASConfigPath)
			}
			stack = append(stack, t.Name.Local)
			if t.Name.Local != "Entry" {
				continue
			}
			name := attr(t, "name")
			switch {
			case inside(stack, "RadiusClients"):
				clients = append(clients, name)
			case inside(stack, "RadiusServerGroups"):
				groups = append(groups, name)
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// inside reports whether an Entry (the last element of stack) sits directly
// in a list below the named container: <RadiusClients><Clients><Entry>.
// Entries nested inside another Entry (its properties) do not count.
func inside(stack []string, container string) bool {
	for i := len(stack) - 2; i >= 0; i-- {
		if stack[i] == "Entry" {
			return false
		}
		if stack[i] == container {
			return true
		}
	}
	return false
}

// FileHeader returns up to n bytes from the start of a volume file.
func (v *Volume) FileHeader(rel string, n int) ([]byte, error) {
	f, err := v.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", v.shown(rel), err)
	}
	return buf[:m], nil
}
