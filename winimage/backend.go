package winimage

import (
	"context"
	"errors"
	"io/fs"

	"github.com/reseal/reseal/hive"
)

// FS is an offline installation's file system as a backend gives it to the
// engine: read-only, and never reaching anything outside the installation.
// docs/backends.md describes the contract in full; in short:
//
//   - Names are slash-separated paths relative to the installation's root,
//     spelled exactly as stored ("." is the root). Volume resolves the
//     names people and answer files write (any letter case, backslashes)
//     by listing directories with ReadDir and matching with SameName, so a
//     backend never has to fold case itself.
//   - Nothing a backend does may leave the root: a name through a link
//     whose target lies outside it fails with an error wrapping ErrEscape.
//     A backend that cannot follow links at all (an image inside a WIM)
//     reports them with Lstat and treats them as ending the path.
//   - A missing name gives an error wrapping fs.ErrNotExist.
type FS interface {
	// Open opens a regular file for reading (fs.File: Read, Stat, Close).
	Open(name string) (fs.File, error)
	// Lstat describes name without following a final link. A symbolic
	// link, junction or other reparse point has fs.ModeSymlink or
	// fs.ModeIrregular set; Sys() may be a *FileAttributes.
	Lstat(name string) (fs.FileInfo, error)
	// Stat describes name following links that stay beneath the root
	// (error wrapping ErrEscape for one that leaves it). A backend that
	// does not follow links returns what Lstat returns.
	Stat(name string) (fs.FileInfo, error)
	// ReadDir lists a directory, sorted by name.
	ReadDir(name string) ([]fs.DirEntry, error)
}

// FileAttributes is what a backend that knows the Windows side of a file
// returns from fs.FileInfo.Sys(): its FILE_ATTRIBUTE_* bits and, for a
// reparse point, the reparse tag.
type FileAttributes struct {
	Attributes uint32
	ReparseTag uint32
}

// Backend is where an offline installation lives: a directory, an image
// inside a WIM, an NTFS volume inside a disk image. The engine reads it
// through its FS and changes it only by handing a ChangeSet to Commit.
type Backend interface {
	FS
	// String names the installation for messages: the directory, or
	// IMAGE.wim:1.
	String() string
	// Close releases what the backend holds open.
	Close() error
}

// Committer is a backend that carries out a change set itself, all or
// nothing: a WIM backend writes a new image, a disk backend writes into the
// volume. The directory backend is not a Committer: the Sysprep engine
// commits to a directory through its own journal (sysprep/commit.go), which
// finishes or rolls back an interrupted commit on the next run.
type Committer interface {
	Commit(ctx context.Context, cs *ChangeSet) error
}

// ChangeOp is what a Change does.
type ChangeOp int

const (
	// ChangeRemove removes a file, or a directory with everything in it.
	ChangeRemove ChangeOp = iota + 1
	// ChangeWrite creates or replaces a regular file with Content
	// (missing parent directories are created).
	ChangeWrite
	// ChangeHive replaces a registry hive with Hive written clean
	// (hive.Hive.WriteTo) and empties each of its transaction logs Logs,
	// as Windows leaves them after a clean flush.
	ChangeHive
)

func (op ChangeOp) String() string {
	switch op {
	case ChangeRemove:
		return "remove"
	case ChangeWrite:
		return "write"
	case ChangeHive:
		return "hive"
	}
	return "unknown"
}

// Change is one step of a ChangeSet. Path is volume-relative with forward
// slashes; components that exist are spelled as stored (Volume.Lookup),
// new ones as the engine chose.
type Change struct {
	Op      ChangeOp
	Path    string
	Dir     bool       // ChangeRemove: Path is a directory
	Content []byte     // ChangeWrite
	Hive    *hive.Hive // ChangeHive: the edited hive
	Logs    []string   // ChangeHive: the hive's transaction logs, spelled as stored
}

// ChangeSet is everything a generalize changes in an installation, in the
// order it is to be done (a removal may precede a write beneath the same
// directory). The hives it holds are the committer's to read; the engine
// closes them after Commit returns.
type ChangeSet struct {
	Changes []Change
}

// Close releases the hives of the change set.
func (cs *ChangeSet) Close() error {
	var errs []error
	for _, c := range cs.Changes {
		if c.Hive != nil {
			errs = append(errs, c.Hive.Close())
		}
	}
	return errors.Join(errs...)
}
