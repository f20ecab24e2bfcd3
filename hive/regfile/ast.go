package regfile

import "github.com/reseal/reseal/hive"

// Kind says what an Op does.
type Kind int

const (
	// CreateKey opens a [KEY] section: the key is created with its parents
	// if missing, and the value lines that follow apply to it.
	CreateKey Kind = iota + 1
	// DeleteKey is a [-KEY] line: the key and everything below it go.
	DeleteKey
	// SetValue is a "name"=data line.
	SetValue
	// DeleteValue is a "name"=- line.
	DeleteValue
)

func (k Kind) String() string {
	switch k {
	case CreateKey:
		return "create key"
	case DeleteKey:
		return "delete key"
	case SetValue:
		return "set value"
	case DeleteValue:
		return "delete value"
	}
	return "unknown"
}

// Op is one operation of a .reg file.
type Op struct {
	Kind Kind
	Line int    // line number (1-based) where the operation starts
	Key  string // the key path as written between the brackets, prefix included
	// Name, Type and Data describe a value (SetValue, DeleteValue). The
	// default value has the name "".
	Name string
	Type hive.ValueType
	Data []byte // raw bytes as the hive stores them (strings as UTF-16LE)
}

// Version is the dialect named by a .reg file's header line.
type Version int

const (
	// Version5 is "Windows Registry Editor Version 5.00": Unicode text;
	// hex(2) and hex(7) data are UTF-16LE.
	Version5 Version = 5
	// Version4 is "REGEDIT4": ANSI text; hex(2) and hex(7) data are ANSI
	// and are converted to UTF-16LE on reading.
	Version4 Version = 4
)

// Header lines of the two dialects.
const (
	header5 = "Windows Registry Editor Version 5.00"
	header4 = "REGEDIT4"
)
