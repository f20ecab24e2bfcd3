package hive

import "time"

// MaxFileSize is the largest hive file this package reads: callers reading
// a hive from elsewhere than a file of their own (an image inside a WIM)
// bound their reads with it.
const MaxFileSize = maxHiveBins + baseBlockSize

// LogData is a transaction log that the caller has read: its name (as
// Recovery.Logs reports it) and its bytes.
type LogData struct {
	Name string
	Data []byte
}

// LoadWithLogs is Open for a hive whose file and transaction logs the
// caller has read from wherever they live: raw is the primary file, logs
// its .LOG1, .LOG2 and .LOG in that order (empty ones are ignored). A dirty
// hive is recovered in memory from the logs. opts may be nil; raw is not
// kept.
func LoadWithLogs(raw []byte, logs []LogData, opts *OpenOptions) (*Hive, error) {
	if opts == nil {
		opts = &OpenOptions{}
	}
	var lf []logFile
	if !opts.NoLogs {
		for _, l := range logs {
			if len(l.Data) > 0 {
				lf = append(lf, logFile{path: l.Name, raw: l.Data})
			}
		}
	}
	h, err := load(raw, lf)
	if err != nil {
		return nil, err
	}
	h.readOnly = opts.ReadOnly
	h.now = time.Now
	if opts.Clock != nil {
		h.now = opts.Clock
	}
	return h, nil
}

// LogSuffixes are the suffixes of a hive's transaction logs, in the order
// LoadWithLogs wants them.
func LogSuffixes() []string { return append([]string(nil), logSuffixes...) }
