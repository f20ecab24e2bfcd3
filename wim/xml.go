package wim

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// ImageInfo is what the XML data says about one image (what wiminfo shows).
type ImageInfo struct {
	Index                int          `json:"index"`
	Name                 string       `json:"name"`
	Description          string       `json:"description"`
	DisplayName          string       `json:"display_name"`
	DisplayDescription   string       `json:"display_description"`
	DirCount             int64        `json:"dir_count"`
	FileCount            int64        `json:"file_count"`
	TotalBytes           int64        `json:"total_bytes"`
	HardLinkBytes        int64        `json:"hard_link_bytes"`
	CreationTime         time.Time    `json:"creation_time"`
	LastModificationTime time.Time    `json:"last_modification_time"`
	Flags                string       `json:"flags"`
	Boot                 bool         `json:"boot"`
	Windows              *WindowsInfo `json:"windows"`
}

// WindowsInfo is the <WINDOWS> element DISM writes for Windows images.
type WindowsInfo struct {
	Architecture     string   `json:"architecture"`
	ProductName      string   `json:"product_name"`
	EditionID        string   `json:"edition_id"`
	InstallationType string   `json:"installation_type"`
	ProductType      string   `json:"product_type"`
	ProductSuite     string   `json:"product_suite"`
	Languages        []string `json:"languages"`
	DefaultLanguage  string   `json:"default_language"`
	Version          string   `json:"version"`
	SystemRoot       string   `json:"system_root"`
}

type xmlTime struct {
	High string `xml:"HIGHPART"`
	Low  string `xml:"LOWPART"`
}

func (t *xmlTime) filetime() uint64 {
	if t == nil {
		return 0
	}
	h, err1 := strconv.ParseUint(strings.TrimSpace(t.High), 0, 32)
	l, err2 := strconv.ParseUint(strings.TrimSpace(t.Low), 0, 32)
	if err1 != nil || err2 != nil {
		return 0
	}
	return h<<32 | l
}

func newXMLTime(ft uint64) *xmlTime {
	return &xmlTime{High: fmt.Sprintf("0x%08X", ft>>32), Low: fmt.Sprintf("0x%08X", ft&0xffffffff)}
}

type xmlImageFields struct {
	Name               string   `xml:"NAME"`
	Description        string   `xml:"DESCRIPTION"`
	DisplayName        string   `xml:"DISPLAYNAME"`
	DisplayDescription string   `xml:"DISPLAYDESCRIPTION"`
	DirCount           string   `xml:"DIRCOUNT"`
	FileCount          string   `xml:"FILECOUNT"`
	TotalBytes         string   `xml:"TOTALBYTES"`
	HardLinkBytes      string   `xml:"HARDLINKBYTES"`
	Flags              string   `xml:"FLAGS"`
	Created            *xmlTime `xml:"CREATIONTIME"`
	Modified           *xmlTime `xml:"LASTMODIFICATIONTIME"`
	Windows            *struct {
		Arch             string `xml:"ARCH"`
		ProductName      string `xml:"PRODUCTNAME"`
		EditionID        string `xml:"EDITIONID"`
		InstallationType string `xml:"INSTALLATIONTYPE"`
		ProductType      string `xml:"PRODUCTTYPE"`
		ProductSuite     string `xml:"PRODUCTSUITE"`
		Languages        struct {
			Language []string `xml:"LANGUAGE"`
			Default  string   `xml:"DEFAULT"`
		} `xml:"LANGUAGES"`
		Version *struct {
			Major   string `xml:"MAJOR"`
			Minor   string `xml:"MINOR"`
			Build   string `xml:"BUILD"`
			SPBuild string `xml:"SPBUILD"`
		} `xml:"VERSION"`
		SystemRoot string `xml:"SYSTEMROOT"`
	} `xml:"WINDOWS"`
}

type xmlImage struct {
	Index string `xml:"INDEX,attr"`
	Inner []byte `xml:",innerxml"`
}

type xmlDoc struct {
	XMLName xml.Name   `xml:"WIM"`
	Images  []xmlImage `xml:"IMAGE"`
}

var archNames = map[string]string{"0": "x86", "5": "ARM", "6": "IA64", "9": "x86_64", "12": "ARM64"}

// decodeXMLData turns the UTF-16LE XML resource into text.
func decodeXMLData(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0xfe {
		b = b[2:]
	}
	if len(b)%2 != 0 {
		return "", formatErr("XML data has an odd length %d", len(b))
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

func encodeXMLData(s string) []byte {
	return append([]byte{0xff, 0xfe}, encodeUTF16(s)...)
}

// parseXMLData returns the images the XML describes, by index, and the raw
// inner XML of each (kept verbatim when the WIM is rewritten).
func parseXMLData(text string) (map[int]ImageInfo, map[int][]byte, error) {
	var doc xmlDoc
	dec := xml.NewDecoder(strings.NewReader(text))
	dec.Strict = false
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, formatErr("XML data: %v", err)
	}
	infos := map[int]ImageInfo{}
	raws := map[int][]byte{}
	for _, im := range doc.Images {
		idx, err := strconv.Atoi(strings.TrimSpace(im.Index))
		if err != nil || idx < 1 {
			return nil, nil, formatErr("XML data: image with invalid INDEX %q", im.Index)
		}
		var f xmlImageFields
		if err := xml.Unmarshal(append(append([]byte("<IMAGE>"), im.Inner...), "</IMAGE>"...), &f); err != nil {
			return nil, nil, formatErr("XML data: image %d: %v", idx, err)
		}
		info := ImageInfo{
			Index:              idx,
			Name:               f.Name,
			Description:        f.Description,
			DisplayName:        f.DisplayName,
			DisplayDescription: f.DisplayDescription,
			DirCount:           atoi64(f.DirCount),
			FileCount:          atoi64(f.FileCount),
			TotalBytes:         atoi64(f.TotalBytes),
			HardLinkBytes:      atoi64(f.HardLinkBytes),
			Flags:              f.Flags,
		}
		if ft := f.Created.filetime(); ft != 0 {
			info.CreationTime = FiletimeToTime(ft).UTC()
		}
		if ft := f.Modified.filetime(); ft != 0 {
			info.LastModificationTime = FiletimeToTime(ft).UTC()
		}
		if w := f.Windows; w != nil {
			wi := &WindowsInfo{
				Architecture: archNames[strings.TrimSpace(w.Arch)], ProductName: w.ProductName, EditionID: w.EditionID,
				InstallationType: w.InstallationType, ProductType: w.ProductType, ProductSuite: w.ProductSuite,
				Languages: w.Languages.Language, DefaultLanguage: w.Languages.Default, SystemRoot: w.SystemRoot,
			}
			if wi.Architecture == "" {
				wi.Architecture = w.Arch
			}
			if v := w.Version; v != nil {
				// MAJOR.MINOR.BUILD[.SPBUILD]: an image without SPBUILD
				// has a three-part version, not one with a trailing dot.
				parts := []string{v.Major, v.Minor, v.Build, v.SPBuild}
				for len(parts) > 0 && strings.TrimSpace(parts[len(parts)-1]) == "" {
					parts = parts[:len(parts)-1]
				}
				wi.Version = strings.Join(parts, ".")
			}
			info.Windows = wi
		}
		infos[idx] = info
		raws[idx] = im.Inner
	}
	return infos, raws, nil
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
	return n
}

// imageXML renders the inner XML of a newly captured image.
func imageXML(info ImageInfo, created, modified uint64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<DIRCOUNT>%d</DIRCOUNT><FILECOUNT>%d</FILECOUNT><TOTALBYTES>%d</TOTALBYTES><HARDLINKBYTES>%d</HARDLINKBYTES>",
		info.DirCount, info.FileCount, info.TotalBytes, info.HardLinkBytes)
	writeTime := func(tag string, ft uint64) {
		t := newXMLTime(ft)
		fmt.Fprintf(&b, "<%s><HIGHPART>%s</HIGHPART><LOWPART>%s</LOWPART></%s>", tag, t.High, t.Low, tag)
	}
	writeTime("CREATIONTIME", created)
	writeTime("LASTMODIFICATIONTIME", modified)
	if w := info.Windows; w != nil {
		b.WriteString("<WINDOWS>")
		if arch, ok := archCodes[lower(w.Architecture)]; ok {
			fmt.Fprintf(&b, "<ARCH>%d</ARCH>", arch)
		}
		writeElem(&b, "PRODUCTNAME", w.ProductName)
		writeElem(&b, "EDITIONID", w.EditionID)
		writeElem(&b, "INSTALLATIONTYPE", w.InstallationType)
		writeElem(&b, "PRODUCTTYPE", w.ProductType)
		writeElem(&b, "PRODUCTSUITE", w.ProductSuite)
		if len(w.Languages) > 0 || w.DefaultLanguage != "" {
			b.WriteString("<LANGUAGES>")
			for _, l := range w.Languages {
				writeElem(&b, "LANGUAGE", l)
			}
			writeElem(&b, "DEFAULT", w.DefaultLanguage)
			b.WriteString("</LANGUAGES>")
		}
		if parts := strings.Split(w.Version, "."); w.Version != "" && len(parts) <= 4 {
			b.WriteString("<VERSION>")
			for i, tag := range []string{"MAJOR", "MINOR", "BUILD", "SPBUILD"} {
				v := "0"
				if i < len(parts) {
					v = parts[i]
				}
				writeElem(&b, tag, v)
			}
			b.WriteString("</VERSION>")
		}
		writeElem(&b, "SYSTEMROOT", w.SystemRoot)
		b.WriteString("</WINDOWS>")
	}
	writeElem(&b, "NAME", info.Name)
	writeElem(&b, "DESCRIPTION", info.Description)
	writeElem(&b, "FLAGS", info.Flags)
	writeElem(&b, "DISPLAYNAME", info.DisplayName)
	writeElem(&b, "DISPLAYDESCRIPTION", info.DisplayDescription)
	return b.Bytes()
}

// writeElem writes <tag>text</tag>, escaped, unless text is empty.
func writeElem(b *bytes.Buffer, tag, text string) {
	if text == "" {
		return
	}
	fmt.Fprintf(b, "<%s>", tag)
	xml.EscapeText(b, []byte(text))
	fmt.Fprintf(b, "</%s>", tag)
}

var archCodes = map[string]int{"x86": 0, "arm": 5, "ia64": 6, "x86_64": 9, "amd64": 9, "x64": 9, "arm64": 12}

// wimXML renders the whole XML document from each image's inner XML.
func wimXML(totalBytes int64, images [][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<WIM><TOTALBYTES>%d</TOTALBYTES>", totalBytes)
	for i, inner := range images {
		fmt.Fprintf(&b, "<IMAGE INDEX=\"%d\">", i+1)
		b.Write(inner)
		b.WriteString("</IMAGE>")
	}
	b.WriteString("</WIM>")
	return b.String()
}
