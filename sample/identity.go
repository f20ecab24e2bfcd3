package sample

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// identity is everything that makes one machine different from its clones.
// It is drawn from the seed before anything else, so that blockers, which
// only add to the volume, never shift the identity a seed produces.
type identity struct {
	computerName  string
	userName      string
	domainSubs    [3]uint32 // S-1-5-21-a-b-c: the machine (account domain) SID
	machineGUID   string    // Cryptography\MachineGuid, lower case, no braces
	susClientID   string    // WindowsUpdate\SusClientId
	susValidation []byte
	sqmMachineID  string // {GUID}
	msdtcCID      string // {GUID}
	senseGUID     string // Defender for Endpoint onboarding id
	mac           [6]byte
	gatewayMAC    [6]byte
	ifGUID        string // {GUID} of the Ethernet interface
	profileGUID   string // {GUID} of the network location profile
	volumeGUID    string
	subnet        byte // 192.168.<subnet>.0/24
	hostOctet     byte
	duidTime      uint32 // DHCPv6 DUID-LLT time: seconds since 2000-01-01
	iaid          uint32
	rdpThumbprint string
	dpapiSecret   []byte
	installTime   time.Time
	leaseObtained time.Time
}

var userNames = []string{"alex", "sam", "robin", "jordan", "casey", "taylor", "morgan", "jamie"}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func newIdentity(r *rand.Rand, server bool, now time.Time) identity {
	var id identity
	if server {
		id.computerName = "WIN-" + randString(r, alnum, 11)
	} else {
		id.computerName = "DESKTOP-" + randString(r, alnum, 7)
	}
	id.userName = userNames[r.IntN(len(userNames))]
	for i := range id.domainSubs {
		id.domainSubs[i] = 1_000_000_000 + r.Uint32N(3_000_000_000)
	}
	id.machineGUID = randGUID(r)
	id.susClientID = randGUID(r)
	id.susValidation = susValidation(r)
	id.sqmMachineID = "{" + strings.ToUpper(randGUID(r)) + "}"
	id.msdtcCID = "{" + strings.ToUpper(randGUID(r)) + "}"
	id.senseGUID = randGUID(r)
	// A VMware-assigned MAC (00:0C:29) for the golden VM, and its gateway's.
	id.mac = [6]byte{0x00, 0x0c, 0x29, byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
	id.gatewayMAC = [6]byte{0x00, 0x50, 0x56, byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
	id.ifGUID = "{" + strings.ToUpper(randGUID(r)) + "}"
	id.profileGUID = "{" + strings.ToUpper(randGUID(r)) + "}"
	id.volumeGUID = "{" + randGUID(r) + "}"
	id.subnet = byte(1 + r.IntN(250))
	id.hostOctet = byte(100 + r.IntN(100))
	id.installTime = now.Add(-time.Duration(20+r.IntN(40)) * 24 * time.Hour).Truncate(time.Second)
	id.leaseObtained = now.Add(-time.Duration(1+r.IntN(20)) * time.Hour).Truncate(time.Second)
	id.duidTime = uint32(id.installTime.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) / time.Second)
	id.iaid = 0x0e000c29 | uint32(r.IntN(256))<<16
	id.rdpThumbprint = strings.ToUpper(randString(r, "0123456789abcdef", 40))
	id.dpapiSecret = randBytes(r, 44)
	return id
}

// machineSID is the account domain SID, S-1-5-21-a-b-c.
func (id identity) machineSID() string {
	return fmt.Sprintf("S-1-5-21-%d-%d-%d", id.domainSubs[0], id.domainSubs[1], id.domainSubs[2])
}

// userSID is the SID of the first local user account (RID 1001).
func (id identity) userSID() string { return fmt.Sprintf("%s-%d", id.machineSID(), userRID) }

func (id identity) ipAddress() string   { return fmt.Sprintf("192.168.%d.%d", id.subnet, id.hostOctet) }
func (id identity) gatewayAddr() string { return fmt.Sprintf("192.168.%d.1", id.subnet) }

// duid is a DHCPv6 DUID-LLT: type 1, hardware type 1 (Ethernet), time, MAC.
func (id identity) duid() []byte {
	b := []byte{0x00, 0x01, 0x00, 0x01}
	b = binary.BigEndian.AppendUint32(b, id.duidTime)
	return append(b, id.mac[:]...)
}

func randString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// randGUID returns a version-4 GUID in lower case without braces.
func randGUID(r *rand.Rand) string {
	b := randBytes(r, 16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// guidBytes is a GUID's in-memory (mixed-endian) form, as Windows stores
// GUIDs in binary values.
func guidBytes(s string) []byte {
	s = strings.Trim(s, "{}")
	var parts [5]uint64
	_, err := fmt.Sscanf(s, "%8x-%4x-%4x-%4x-%12x", &parts[0], &parts[1], &parts[2], &parts[3], &parts[4])
	if err != nil {
		panic("sample: bad GUID literal " + s) // only ever called with GUIDs made here
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(parts[0]))
	b = binary.LittleEndian.AppendUint16(b, uint16(parts[1]))
	b = binary.LittleEndian.AppendUint16(b, uint16(parts[2]))
	b = binary.BigEndian.AppendUint16(b, uint16(parts[3]))
	for i := 5; i >= 0; i-- {
		b = append(b, byte(parts[4]>>(8*i)))
	}
	return b
}

// susValidation is the shape of SusClientIDValidation: a short header and
// a hardware fingerprint string.
func susValidation(r *rand.Rand) []byte {
	b := []byte{0x06, 0x02, 0x18, 0x00, 0x00, 0x00}
	b = append(b, utf16le("VMware-"+randString(r, "0123456789abcdef", 16))...)
	b = append(b, utf16le(" "+randString(r, "0123456789ABCDEF", 20))...)
	return b
}

// sidBytes encodes a SID string (S-1-5-21-...) in its binary form.
func sidBytes(sid string) []byte {
	var parts []uint64
	for _, p := range strings.Split(strings.TrimPrefix(sid, "S-"), "-") {
		var v uint64
		fmt.Sscanf(p, "%d", &v)
		parts = append(parts, v)
	}
	b := []byte{byte(parts[0]), byte(len(parts) - 2)}
	auth := parts[1]
	for i := 5; i >= 0; i-- {
		b = append(b, byte(auth>>(8*i)))
	}
	for _, sub := range parts[2:] {
		b = binary.LittleEndian.AppendUint32(b, uint32(sub))
	}
	return b
}

// filetime converts t to a Windows FILETIME (100 ns since 1601-01-01).
func filetime(t time.Time) uint64 {
	const epochDelta = 116444736000000000
	return uint64(t.UnixNano()/100) + epochDelta
}

// systemtime encodes t as a Windows SYSTEMTIME (16 bytes), as network
// profiles store their dates.
func systemtime(t time.Time) []byte {
	var b []byte
	for _, v := range []int{t.Year(), int(t.Month()), int(t.Weekday()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond() / 1e6} {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}
