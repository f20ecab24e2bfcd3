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
	for _, alias := range []struct {
		rid  uint32
		name string
	}{{0x220, "Administrators"}, {0x221, "Users"}, {0x222, "Guests"}, {0x223, "Power Users"}, {0x22b, "Remote Desktop Users"}} {
		t.bin(fmt.Sprintf(`%s\Aliases\%08X`, builtin, alias.rid), "C", append(securityDescriptor(), utf16le(alias.name)...))
		t.set(builtin+`\Aliases\Names\`+alias.name, "", alias.rid, nil)
	}
}

// samDomainF is the domain's fixed-size record: revision, times, policy
// and, at 0x48, the next RID to hand out.
func (v *volume) samDomainF(nextRID uint32) []byte {
	b := make([]byte, 0x68)
	binary.LittleEndian.PutUint16(b[0x00:], 3)
	binary.LittleEndian.PutUint64(b[0x08:], filetime(v.id.installTime))
	binary.LittleEndian.PutUint64(b[0x18:], 0x1f) // modified count
	// Durations are negative counts of 100 ns, as in the LSA policy.
	binary.LittleEndian.PutUint64(b[0x20:], negInterval(42*24*time.Hour)) // maximum password age
	binary.LittleEndian.PutUint64(b[0x30:], 0x8000000000000000)           // force logoff: never
	binary.LittleEndian.PutUint64(b[0x38:], negInterval(30*time.Minute))  // lockout duration
	binary.LittleEndian.PutUint64(b[0x40:], negInterval(30*time.Minute))  // lockout observation window
	binary.LittleEndian.PutUint32(b[0x48:], nextRID)
	binary.LittleEndian.PutUint32(b[0x4c:], 0) // password properties
	binary.LittleEndian.PutUint16(b[0x54:], 0) // minimum password length
	return b
}

// samDomainV holds the domain's security descriptor and, last, its SID.
func samDomainV(sid []byte) []byte {
	b := securityDescriptor()
	return append(b, sid...)
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

// samUserV is the variable part: a table of 17 (offset, length, flags)
// entries relative to its end at 0xCC, then the data. Entry 0 is the
// security descriptor, 1 the name, 2 the full name, 3 the comment, 13 and
// 14 the LM and NT hash structures (empty: no password stored).
func samUserV(a samAccount) []byte {
	fields := make([][]byte, 17)
	fields[0] = securityDescriptor()
	fields[1] = utf16le(a.name)
	fields[2] = utf16le(a.fullName)
	fields[3] = utf16le(a.comment)
	fields[11] = bytesOf(0xff, 21) // logon hours: always
	fields[13] = []byte{0x00, 0x00, 0x02, 0x00}
	fields[14] = []byte{0x00, 0x00, 0x02, 0x00}
	const tableSize = 0xcc
	head := make([]byte, tableSize)
	var data []byte
	for i, f := range fields {
		binary.LittleEndian.PutUint32(head[i*12:], uint32(len(data)))
		binary.LittleEndian.PutUint32(head[i*12+4:], uint32(len(f)))
		binary.LittleEndian.PutUint32(head[i*12+8:], 0)
		data = append(data, f...)
		for len(data)%4 != 0 {
			data = append(data, 0)
		}
	}
	return append(head, data...)
}

func bytesOf(b byte, n int) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = b
	}
	return s
}

// securityDescriptor is a self-relative security descriptor: owner and
// group BUILTIN\Administrators, a DACL granting Everyone read and
// Administrators full control.
func securityDescriptor() []byte {
	admins := sidBytes("S-1-5-32-544")
	everyone := sidBytes("S-1-1-0")
	ace := func(mask uint32, sid []byte) []byte {
		b := []byte{0x00, 0x00} // ACCESS_ALLOWED_ACE_TYPE, no flags
		b = binary.LittleEndian.AppendUint16(b, uint16(8+len(sid)))
		b = binary.LittleEndian.AppendUint32(b, mask)
		return append(b, sid...)
	}
	aces := append(ace(0x0002035b, everyone), ace(0x000f07ff, admins)...)
	acl := []byte{0x02, 0x00}
	acl = binary.LittleEndian.AppendUint16(acl, uint16(8+len(aces)))
	acl = binary.LittleEndian.AppendUint16(acl, 2)
	acl = append(acl, 0, 0)
	acl = append(acl, aces...)
	const head = 20
	b := []byte{0x01, 0x00}
	b = binary.LittleEndian.AppendUint16(b, 0x8004) // self-relative, DACL present
	b = binary.LittleEndian.AppendUint32(b, uint32(head))
	b = binary.LittleEndian.AppendUint32(b, uint32(head+len(admins)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(head+2*len(admins)))
	b = append(b, admins...)
	b = append(b, admins...)
	return append(b, acl...)
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
