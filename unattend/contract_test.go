package unattend

import "io"

// The Sysprep engine codes against these exact signatures
// (/work/brief/unattend-api.md); this file stops them drifting.
var (
	_ func(io.Reader) (*File, error)                             = Parse
	_ func(string) (*File, error)                                = ParseFile
	_ func(*File, io.Writer) (int64, error)                      = (*File).WriteTo
	_ func(*File, string, string, string, string) (string, bool) = (*File).Setting
	_ func(*File) []Finding                                      = (*File).Validate
	_ func(*File, string)                                        = (*File).MarkPassProcessed
	_ func(*File)                                                = (*File).RedactSecrets
	_ func(Severity) string                                      = Severity.String
	_ func([]Finding) bool                                       = HasErrors
	_ func(string, string) string                                = EncodePassword
	_ func(string, string) (string, error)                       = DecodePassword
	_                                                            = Finding{ID: "", Severity: SeverityError, Line: 0, Column: 0, Message: ""}
	_ [1]struct{}                                                = [SeverityWarning]struct{}{}
	_ [2]struct{}                                                = [SeverityError]struct{}{}
)
