package hive

import (
	"encoding/binary"
	"time"
)

// defaultSecurity is the self-relative security descriptor of a new hive's
// root key (inherited by keys created under it): owner Administrators,
// group SYSTEM; full control for SYSTEM and Administrators, read for
// Everyone, all inherited by subkeys.
var defaultSecurity = func() []byte {
	sid := func(auth byte, subs ...uint32) []byte {
		b := []byte{1, byte(len(subs)), 0, 0, 0, 0, 0, auth}
		for _, s := range subs {
			b = binary.LittleEndian.AppendUint32(b, s)
		}
		return b
	}
	system := sid(5, 18)
	admins := sid(5, 32, 544)
	everyone := sid(1, 0)
	ace := func(mask uint32, s []byte) []byte {
		b := []byte{0 /* ACCESS_ALLOWED */, 0x02 /* CONTAINER_INHERIT */}
		b = binary.LittleEndian.AppendUint16(b, uint16(8+len(s)))
		b = binary.LittleEndian.AppendUint32(b, mask)
		return append(b, s...)
	}
	aces := append(append(ace(0xF003F, system), ace(0xF003F, admins)...), ace(0x20019, everyone)...)
	acl := []byte{2, 0}
	acl = binary.LittleEndian.AppendUint16(acl, uint16(8+len(aces)))
	acl = binary.LittleEndian.AppendUint16(acl, 3)
	acl = append(acl, 0, 0)
	acl = append(acl, aces...)
	const header = 20
	owner := header
	group := owner + len(admins)
	dacl := group + len(system)
	sd := []byte{1, 0}
	sd = binary.LittleEndian.AppendUint16(sd, 0x8004) // SE_SELF_RELATIVE | SE_DACL_PRESENT
	sd = binary.LittleEndian.AppendUint32(sd, uint32(owner))
	sd = binary.LittleEndian.AppendUint32(sd, uint32(group))
	sd = binary.LittleEndian.AppendUint32(sd, 0) // no SACL
	sd = binary.LittleEndian.AppendUint32(sd, uint32(dacl))
	sd = append(sd, admins...)
	sd = append(sd, system...)
	return append(sd, acl...)
}()

// NewOptions adjust NewWithOptions.
type NewOptions struct {
	// Clock gives the time stamped on the root key, on keys as they are
	// created or edited, and on the base block when the hive is written;
	// nil means time.Now. A fixed clock makes the written bytes depend on
	// the edits alone.
	Clock func() time.Time
}

// New returns a new empty hive (format version 1.5, as Windows 10 and 11
// write their system hives) whose root key is named "ROOT". Save it with
// SaveAs or WriteTo.
func New() *Hive { return NewWithOptions(nil) }

// NewWithOptions is New with options; opts may be nil.
func NewWithOptions(opts *NewOptions) *Hive {
	h := &Hive{
		base:      make([]byte, baseBlockSize),
		deletedAt: map[uint32]uint64{},
		index:     map[uint32]*keyIndex{},
		now:       time.Now,
	}
	if opts != nil && opts.Clock != nil {
		h.now = opts.Clock
	}
	b := h.base
	copy(b, "regf")
	le.PutUint32(b[4:], 1)
	le.PutUint32(b[8:], 1)
	le.PutUint32(b[20:], 1)
	le.PutUint32(b[24:], 5)
	le.PutUint32(b[28:], fileTypePrimary)
	le.PutUint32(b[32:], 1)
	le.PutUint32(b[44:], 1)
	h.grow(binAlign - binHeaderSize)
	sk, _ := h.alloc(20 + len(defaultSecurity))
	s := h.data[sk+4:]
	copy(s, "sk")
	le.PutUint32(s[4:], sk)
	le.PutUint32(s[8:], sk)
	le.PutUint32(s[12:], 1)
	le.PutUint32(s[16:], uint32(len(defaultSecurity)))
	copy(s[20:], defaultSecurity)
	name := "ROOT"
	root, _ := h.alloc(nkFixed + len(name))
	h.initKeyNode(root, keyHiveEntry|keyNoDelete|keyCompName, noCell, sk, []byte(name))
	le.PutUint32(b[36:], root)
	le.PutUint32(b[40:], uint32(len(h.data)))
	le.PutUint32(b[508:], xorChecksum(b))
	return h
}
