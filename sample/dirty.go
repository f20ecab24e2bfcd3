package sample

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"
)

// A dirty hive is what a machine leaves when it is switched off before the
// registry wrote its changes back: since Windows 8.1 changes go first to a
// transaction log (*.LOG1, "new format": HvLE entries) and reach the
// primary file only later. The primary file holds the older state with its
// sequence numbers apart; the log holds the pages that bring it up to date.
// hive.WriteDirty writes both (msuhanov/regf, "Format of transaction log
// files", "New format").

// dirtyHive builds older and newer and returns the primary file (older's
// content, marked as a write begun but not completed) and a .LOG1 whose one
// log entry carries every page in which newer differs from older.
func dirtyHive(older, newer *regTree, now time.Time) (primary, log []byte, err error) {
	flushed, err := buildHive(older, now)
	if err != nil {
		return nil, nil, err
	}
	defer flushed.Close()
	current, err := buildHive(newer, now)
	if err != nil {
		return nil, nil, err
	}
	defer current.Close()
	var p, l bytes.Buffer
	if err := current.WriteDirty(&p, &l, flushed); err != nil {
		return nil, nil, err
	}
	return p.Bytes(), l.Bytes(), nil
}

// writeDirtyHive writes the primary file at path and its log at path.LOG1.
func writeDirtyHive(older, newer *regTree, path string, now time.Time) error {
	primary, log, err := dirtyHive(older, newer, now)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, primary, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(path+".LOG1", log, 0o644); err != nil {
		return fmt.Errorf("write transaction log: %w", err)
	}
	return nil
}

// unflushedSystem is SYSTEM as it was before the last changes: the DHCP
// lease as obtained a day earlier, and without the service installed last.
func (v *volume) unflushedSystem() *regTree {
	older := v.system().clone()
	older.deleteKey(cs + `\Services\vm3dservice`)
	lease := cs + `\Services\Tcpip\Parameters\Interfaces\` + strings.ToLower(v.id.ifGUID)
	obtained := uint32(v.id.leaseObtained.Add(-24 * time.Hour).Unix())
	older.dword(lease, "LeaseObtainedTime", obtained)
	older.dword(lease, "T1", obtained+43200)
	older.dword(lease, "T2", obtained+75600)
	older.dword(lease, "LeaseTerminatesTime", obtained+86400)
	return older
}
