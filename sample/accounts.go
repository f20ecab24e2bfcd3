package sample

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Relative IDs of the local accounts Windows creates, and the first user's.
const (
	ridAdministrator  = 0x1f4
	ridGuest          = 0x1f5
	ridDefaultAccount = 0x1f7
	ridWDAGUtility    = 0x1f8
	userRID           = 1001
)

// Account control bits of a SAM user's F value.
const (
	acbDisabled       = 0x0001
	acbPwdNotRequired = 0x0004
	acbNormal         = 0x0010
	acbDontExpire     = 0x0200
)

type samAccount struct {
	rid      uint32
	name     string
	fullName string
	comment  string
	flags    uint16
	logons   uint16
}

const samAccountKey = `SAM\Domains\Account`

// buildSAM writes the SAM hive in the shape forensic tools read: the
// account domain's F and V, one key per user named by its RID in hex with
// F (times, RID, flags, counters) and V (offset table, then strings), and
// Names\<user> whose default value's type is the RID.
func (v *volume) buildSAM() {
	t := v.hive(samHive)
	accounts := []samAccount{
		{rid: ridAdministrator, name: "Administrator", comment: "Built-in account for administering the computer/domain", flags: acbDisabled | acbNormal | acbDontExpire},
		{rid: ridGuest, name: "Guest", comment: "Built-in account for guest access to the computer/domain", flags: acbDisabled | acbPwdNotRequired | acbNormal | acbDontExpire},
		{rid: ridDefaultAccount, name: "DefaultAccount", comment: "A user account managed by the system.", flags: acbDisabled | acbPwdNotRequired | acbNormal | acbDontExpire},
	}
	if !v.ed.server() {
		accounts = append(accounts, samAccount{rid: ridWDAGUtility, name: "WDAGUtilityAccount", comment: "A user account managed and used by the system for Windows Defender Application Guard scenarios.", flags: acbDisabled | acbNormal})
	}
	accounts = append(accounts, samAccount{rid: userRID, name: v.id.userName, fullName: v.id.userName, flags: acbNormal | acbDontExpire | acbPwdNotRequired, logons: 14})

	t.bin(`SAM`, "C", v.randBytes(0x3c))
	t.set(`SAM\RXACT`, "", regNone, make([]byte, 12))
	t.bin(samAccountKey, "F", v.samDomainF(userRID+1))
	t.bin(samAccountKey, "V", samDomainV(sidBytes(v.id.machineSID())))
	for _, a := range accounts {
		k := fmt.Sprintf(`%s\Users\%08X`, samAccountKey, a.rid)
		last := time.Time{}
		if a.logons > 0 {
			last = v.now.Add(-10 * time.Minute)
		}
		t.bin(k, "F", samUserF(a, v.id.installTime, last))
		t.bin(k, "V", samUserV(a))
		t.set(samAccountKey+`\Users\Names\`+a.name, "", uint32(a.rid), nil)
	}
	t.bin(samAccountKey+`\Groups\00000201`, "C", v.randBytes(0x60))
	t.set(samAccountKey+`\Groups\Names\None`, "", 0x201, nil)
	t.key(samAccountKey + `\Aliases\Members`)
	t.key(samAccountKey + `\Aliases\Names`)
	builtin := `SAM\Domains\Builtin`
	t.bin(builtin, "F", v.samDomainF(1000))
	t.bin(builtin, "V", samDomainV(sidBytes("S-1-5-32")))
	userSID := sidBytes(v.id.userSID())
	member := func(rid uint32) []byte { return sidBytes(fmt.Sprintf("%s-%d", v.id.machineSID(), rid)) }
	for _, alias := range []struct {
		rid           uint32
		name, comment string
		members       [][]byte
	}{
		{0x220, "Administrators", "Administrators have complete and unrestricted access to the computer/domain", [][]byte{member(ridAdministrator), userSID}},
		{0x221, "Users", "Users are prevented from making accidental or intentional system-wide changes and can run most applications", [][]byte{sidBytes("S-1-5-4"), sidBytes("S-1-5-11"), userSID}},
		{0x222, "Guests", "Guests have the same access as members of the Users group by default, except for the Guest account which is further restricted", [][]byte{member(ridGuest)}},
		{0x223, "Power Users", "Power Users are included for backwards compatibility and possess limited administrative powers", nil},
		{0x22b, "Remote Desktop Users", "Members in this group are granted the right to logon remotely", nil},
	} {
		t.bin(fmt.Sprintf(`%s\Aliases\%08X`, builtin, alias.rid), "C", aliasC(alias.rid, alias.name, alias.comment, alias.members))
		t.set(builtin+`\Aliases\Names\`+alias.name, "", alias.rid, nil)
	}
	// The reverse index: for each member SID, the local groups it is in.
	// The default value's type is the number of groups, its data their RIDs.
	members := builtin + `\Aliases\Members`
	t.set(members, "", regSZ, nil)
	for _, m := range []struct {
		domain string
		rid    uint32
		groups []uint32
	}{
		{"S-1-5", 4, []uint32{0x221}},
		{"S-1-5", 11, []uint32{0x221}},
		{v.id.machineSID(), ridAdministrator, []uint32{0x220}},
		{v.id.machineSID(), ridGuest, []uint32{0x222}},
		{v.id.machineSID(), userRID, []uint32{0x220, 0x221}},
	} {
		t.set(members+`\`+m.domain, "", regBinary, nil)
		var rids []byte
		for _, g := range m.groups {
			rids = binary.LittleEndian.AppendUint32(rids, g)
		}
		t.set(fmt.Sprintf(`%s\%s\%08X`, members, m.domain, m.rid), "", uint32(len(m.groups)), rids)
	}
}

// aliasC is a local group's record: a 52-byte header (RID, version,
// offsets and sizes of the security descriptor, name, comment and member
// list, member count) followed by those fields; members are SIDs.
func aliasC(rid uint32, name, comment string, members [][]byte) []byte {
	le := binary.LittleEndian
	var list []byte
	for _, m := range members {
		list = append(list, m...)
	}
	h := make([]byte, 52)
	le.PutUint32(h[0x00:], rid)
	le.PutUint32(h[0x0c:], 0x00010002)
	var data []byte
	// Each field starts on a 4-byte boundary of the data area.
	for i, f := range [][]byte{securityDescriptor(), utf16le(name), utf16le(comment), list} {
		at := []int{0x04, 0x10, 0x1c, 0x28}[i]
		le.PutUint32(h[at:], uint32(len(data)))
		le.PutUint32(h[at+4:], uint32(len(f)))
		data = append(data, f...)
		for len(data)%4 != 0 {
			data = append(data, 0)
		}
	}
	le.PutUint32(h[0x30:], uint32(len(members)))
	return append(h, data...)
}

// samDomainF is the domain's fixed-size record (0xF0 bytes, laid out as in
// real Windows 10 SAM hives): revision, creation time, password and lockout
// policy as negative intervals, at 0x48 the next RID to hand out, and from
// 0x68 two copies of the password-encryption key structure (revision,
// length 0x38, salt and encrypted key: seeded noise here).
func (v *volume) samDomainF(nextRID uint32) []byte {
	b := make([]byte, 0xf0)
	le := binary.LittleEndian
	le.PutUint32(b[0x00:], 0x00010002)
	le.PutUint64(b[0x08:], filetime(v.id.installTime))
	le.PutUint64(b[0x10:], 0x25)                         // modified count
	le.PutUint64(b[0x18:], negInterval(42*24*time.Hour)) // maximum password age
	le.PutUint64(b[0x28:], 0x8000000000000000)           // force logoff: never
	le.PutUint64(b[0x30:], negInterval(30*time.Minute))  // lockout duration
	le.PutUint64(b[0x38:], negInterval(30*time.Minute))  // lockout observation window
	le.PutUint32(b[0x48:], nextRID)
	le.PutUint32(b[0x58:], 1)
	le.PutUint32(b[0x5c:], 3)
	le.PutUint32(b[0x60:], 1)
	le.PutUint32(b[0x64:], 0x00010000)
	for _, off := range []int{0x68, 0xa8} {
		le.PutUint32(b[off:], 1)
		le.PutUint32(b[off+4:], 0x38)
		copy(b[off+8:off+8+0x30], v.randBytes(0x30))
	}
	le.PutUint32(b[0xe8:], 3)
	return b
}

// samDomainV is the domain's variable record: four (offset, length,
// flags) descriptors relative to their end, then the security descriptor
// and the domain SID.
func samDomainV(sid []byte) []byte {
	return descriptorRecord([][]byte{securityDescriptor(), sid, nil, nil}, map[int]uint32{0: 0x00010002})
}

// descriptorRecord lays out SAM's variable records: one 12-byte
// descriptor (offset from the end of the table, length, flags) per field,
// then the fields, each padded to 4 bytes.
func descriptorRecord(fields [][]byte, flags map[int]uint32) []byte {
	table := 12 * len(fields)
	head := make([]byte, table)
	var data []byte
	for i, f := range fields {
		binary.LittleEndian.PutUint32(head[i*12:], uint32(len(data)))
		binary.LittleEndian.PutUint32(head[i*12+4:], uint32(len(f)))
		binary.LittleEndian.PutUint32(head[i*12+8:], flags[i])
		data = append(data, f...)
		for len(data)%4 != 0 {
			data = append(data, 0)
		}
	}
	return append(head, data...)
}

// samUserF is the user's 0x50-byte fixed record.
func samUserF(a samAccount, created, lastLogon time.Time) []byte {
	b := make([]byte, 0x50)
	binary.LittleEndian.PutUint32(b[0x00:], 0x00010002)
	if !lastLogon.IsZero() {
		binary.LittleEndian.PutUint64(b[0x08:], filetime(lastLogon))
	}
	binary.LittleEndian.PutUint64(b[0x18:], filetime(created))  // password last set
	binary.LittleEndian.PutUint64(b[0x20:], 0x7fffffffffffffff) // account never expires
	binary.LittleEndian.PutUint32(b[0x30:], a.rid)
	binary.LittleEndian.PutUint32(b[0x34:], 0x201) // primary group: None
	binary.LittleEndian.PutUint16(b[0x38:], a.flags)
	binary.LittleEndian.PutUint16(b[0x42:], a.logons)
	return b
}

// samUserV is the variable record: 17 descriptors (0xCC bytes), then the
// data. Field 0 is the security descriptor, 1 the name, 2 the full name, 3
// the comment, 11 the logon hours, 12 a small fixed record, 13 to 16 the LM
// and NT hashes and their histories: header-only (no password stored), as
// real hives of accounts without a password have them.
func samUserV(a samAccount) []byte {
	fields := make([][]byte, 17)
	fields[0] = securityDescriptor()
	fields[1] = utf16le(a.name)
	fields[2] = utf16le(a.fullName)
	fields[3] = utf16le(a.comment)
	if a.rid == ridAdministrator {
		fields[11] = bytesOf(0xff, 21) // logon hours: always
	}
	fields[12] = []byte{0x01, 0x02, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00}
	for i := 13; i <= 16; i++ {
		fields[i] = []byte{0x03, 0x00, 0x01, 0x00}
	}
	return descriptorRecord(fields, map[int]uint32{0: 0x00010002, 12: 1})
}

func bytesOf(b byte, n int) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = b
	}
	return s
}

// ace is one access control entry: type 0 allows, type 2 audits.
type ace struct {
	typ, flags byte
	mask       uint32
	sid        string
}

func acl(aces []ace) []byte {
	var body []byte
	for _, a := range aces {
		sid := sidBytes(a.sid)
		body = append(body, a.typ, a.flags)
		body = binary.LittleEndian.AppendUint16(body, uint16(8+len(sid)))
		body = binary.LittleEndian.AppendUint32(body, a.mask)
		body = append(body, sid...)
	}
	b := []byte{0x02, 0x00}
	b = binary.LittleEndian.AppendUint16(b, uint16(8+len(body)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(aces)))
	b = append(b, 0, 0)
	return append(b, body...)
}

// selfRelativeSD lays a security descriptor out as Windows writes SAM's:
// header, SACL, DACL, owner, group.
func selfRelativeSD(sacl, dacl []ace, owner, group string) []byte {
	const head = 20
	s, d := acl(sacl), acl(dacl)
	o, g := sidBytes(owner), sidBytes(group)
	le := binary.LittleEndian
	control := uint16(0x8004) // self-relative, DACL present
	saclOff := 0
	if len(sacl) > 0 {
		control |= 0x0010 // SACL present
		saclOff = head
	} else {
		s = nil
	}
	b := []byte{0x01, 0x00}
	b = le.AppendUint16(b, control)
	b = le.AppendUint32(b, uint32(head+len(s)+len(d)))
	b = le.AppendUint32(b, uint32(head+len(s)+len(d)+len(o)))
	b = le.AppendUint32(b, uint32(saclOff))
	b = le.AppendUint32(b, uint32(head+len(s)))
	b = append(b, s...)
	b = append(b, d...)
	b = append(b, o...)
	return append(b, g...)
}

// securityDescriptor is the descriptor SAM gives its domains, groups and
// users: auditing of Everyone and Anonymous, read for Everyone and Users,
// full control for Administrators, owner and group Administrators.
func securityDescriptor() []byte {
	return selfRelativeSD(
		[]ace{{2, 0xc0, 0x0105047a, "S-1-1-0"}, {2, 0xc0, 0x000f07ff, "S-1-5-7"}},
		[]ace{{0, 0, 0x00020385, "S-1-1-0"}, {0, 0, 0x00020385, "S-1-5-32-545"}, {0, 0, 0x000f07df, "S-1-5-32-544"}, {0, 0, 0x000203d5, "S-1-5-32-548"}},
		"S-1-5-32-544", "S-1-5-32-544")
}

// lsaString encodes a name as LSA stores it in SECURITY\Policy: a
// UNICODE_STRING header (length, maximum length, buffer offset) followed
// by the characters.
func lsaString(s string) []byte {
	u := utf16le(s)
	b := binary.LittleEndian.AppendUint16(nil, uint16(len(u)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(u)+2))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint64(b, 0x10)
	b = append(b, u...)
	return append(b, 0, 0)
}

// buildSecurity writes the LSA policy of a workgroup machine: the account
// domain (the machine's name and SID), an empty primary domain, and the
// DPAPI system secret.
func (v *volume) buildSecurity() {
	t := v.hive(securityHive)
	p := `Policy`
	t.set(p+`\PolRevision`, "", regNone, []byte{0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00})
	t.set(p+`\PolAdtEv`, "", regNone, append([]byte{0x00, 0x01, 0x00, 0x00}, make([]byte, 0x6c)...))
	t.set(p+`\PolAcDmN`, "", regNone, lsaString(v.id.computerName))
	t.set(p+`\PolAcDmS`, "", regNone, sidBytes(v.id.machineSID()))
	t.set(p+`\PolPrDmN`, "", regNone, lsaString("WORKGROUP"))
	t.set(p+`\PolPrDmS`, "", regNone, nil) // not a domain member
	t.set(p+`\PolEKList`, "", regNone, append([]byte{0x00, 0x00, 0x00, 0x01}, v.randBytes(0xa8)...))
	t.set(p+`\PolMachineAccountS`, "", regNone, nil)
	t.set(p+`\SecDesc`, "", regNone, securityDescriptor())
	dpapi := p + `\Secrets\DPAPI_SYSTEM`
	t.set(dpapi+`\CurrVal`, "", regNone, v.id.dpapiSecret)
	t.set(dpapi+`\OldVal`, "", regNone, v.id.dpapiSecret)
	t.set(dpapi+`\CupdTime`, "", regNone, binary.LittleEndian.AppendUint64(nil, filetime(v.id.installTime)))
	t.set(dpapi+`\OupdTime`, "", regNone, binary.LittleEndian.AppendUint64(nil, filetime(v.id.installTime)))
	t.set(dpapi+`\SecDesc`, "", regNone, securityDescriptor())
	t.key(p + `\Accounts`)
	t.bin(`Cache`, "NL$Control", []byte{0x04, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00})
	for i := 1; i <= 10; i++ {
		t.bin(`Cache`, fmt.Sprintf("NL$%d", i), nil)
	}
	t.set(`RXACT`, "", regNone, make([]byte, 12))
}

// negInterval encodes a duration as a negative count of 100 ns.
func negInterval(d time.Duration) uint64 { return uint64(-int64(d / 100)) }
