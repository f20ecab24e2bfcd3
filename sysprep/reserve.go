package sysprep

import (
	"errors"

	"github.com/reseal/reseal/winimage"
)

// Reservation is a volume held for a reader that must see it whole, such as
// a capture into a WIM: the lock keeps reseal runs from changing the volume
// meanwhile, and an interrupted commit was finished or rolled back first, so
// the reader never sees a half-generalized image.
type Reservation struct {
	// Installation is what the volume holds.
	Installation winimage.Installation
	// Journal says what the recovery of an interrupted commit did ("" when
	// there was nothing to recover).
	Journal string
	lock    *volumeLock
}

// Reserve takes the volume's lock at target, recovers a journal left there,
// and identifies the installation. It fails with winimage.ErrNotWindows when
// target is no Windows volume, and with an error wrapping ErrLocked when
// another run holds the volume. Release the reservation when done.
func Reserve(target string) (*Reservation, error) {
	v, err := winimage.Open(target)
	if err != nil {
		return nil, err
	}
	inst := v.Installation
	if err := v.Close(); err != nil {
		return nil, err
	}
	lock, lockNote, err := lockForReading(target)
	if err != nil {
		return nil, err
	}
	var note string
	if lockNote != "" {
		err = journalAbsent(target)
	} else {
		note, err = recoverJournal(target, nil)
	}
	if err != nil {
		return nil, errors.Join(err, lock.release())
	}
	if note != "" {
		// The recovery may have replaced the hives the installation was
		// read from: read it again.
		if v, err = winimage.Open(target); err != nil {
			return nil, errors.Join(err, lock.release())
		}
		inst = v.Installation
		if err := v.Close(); err != nil {
			return nil, errors.Join(err, lock.release())
		}
	}
	return &Reservation{Installation: inst, Journal: note, lock: lock}, nil
}

// Release drops the volume's lock.
func (r *Reservation) Release() error { return r.lock.release() }

// ControlFiles are reseal's own files at a volume's root (the lock and the
// journal), as root-anchored exclusion patterns: they belong to no image.
func ControlFiles() []string {
	return []string{`\` + LockFile, `\` + takeoverFile, `\` + journalDir, `\` + journalBinding, `\` + lockTempPrefix + "*"}
}
