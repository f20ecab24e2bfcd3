package winimage

import (
	"strings"
	"unicode/utf16"
)

// ParseStateIni returns the ImageState of a Windows\Setup\State\State.ini
// ("[State]\r\nImageState=IMAGE_STATE_COMPLETE\r\n"), written by Windows in
// ANSI or UTF-16LE with a byte order mark; "" when it names none.
func ParseStateIni(data []byte) string {
	section := ""
	for _, line := range strings.Split(decodeText(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		if ok && (section == "" || strings.EqualFold(section, "State")) && strings.EqualFold(strings.TrimSpace(k), "ImageState") {
			return strings.TrimSpace(val)
		}
	}
	return ""
}

// decodeText reads a small Windows text file: UTF-16LE with a byte order
// mark, or UTF-8/ANSI (with or without a UTF-8 mark).
func decodeText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE {
		units := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			units = append(units, uint16(b[i])|uint16(b[i+1])<<8)
		}
		return string(utf16.Decode(units))
	}
	return strings.TrimPrefix(string(b), "\ufeff")
}
