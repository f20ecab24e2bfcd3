package sysprep

import (
	"fmt"

	"github.com/reseal/reseal/winimage"
)

// placeholderComputerName is the name an image carries between generalize
// and specialize, which always names the machine (from the answer file or
// at random). Windows PE and Setup use the same placeholder.
const placeholderComputerName = "MINWINPC"

// dhcpLeaseValues are an interface's DHCP lease, which a clone must not reuse.
var dhcpLeaseValues = []string{
	"DhcpIPAddress", "DhcpSubnetMask", "DhcpSubnetMaskOpt", "DhcpServer", "DhcpDefaultGateway",
	"DhcpNameServer", "DhcpDomain", "DhcpDomainSearchList", "Lease", "LeaseObtainedTime",
	"LeaseTerminatesTime", "T1", "T2", "DhcpGatewayHardware", "DhcpGatewayHardwareCount",
	"DhcpInterfaceOptions", "DhcpClassIdBin",
}

// planIdentity removes what makes this machine this machine, so that clones
// do not share it: the computer name, the CAPI MachineGuid, Windows
// Update's client id, DHCP leases and the DHCPv6 DUID, network location
// profiles, telemetry and Defender for Endpoint ids, and the Remote Desktop
// self-signed certificate. Windows creates new ones at specialize.
func planIdentity(v *winimage.Volume, o *Options) ([]Action, error) {
	var acts []Action
	for _, sub := range []string{`Control\ComputerName\ComputerName`, `Control\ComputerName\ActiveComputerName`} {
		acts = append(acts, placeholderName(v, ccs(v, sub), "ComputerName")...)
	}
	tcpip := ccs(v, `Services\Tcpip\Parameters`)
	for _, name := range []string{"Hostname", "NV Hostname"} {
		acts = append(acts, placeholderName(v, tcpip, name)...)
	}
	ifaces := ccs(v, `Services\Tcpip\Parameters\Interfaces`)
	if k, err := v.OpenKey(ifaces); err == nil {
		names, err := k.SubKeyNames()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ifaces, err)
		}
		for _, n := range names {
			ref := winimage.KeyRef{Hive: ifaces.Hive, Path: ifaces.Path + `\` + n}
			for _, val := range dhcpLeaseValues {
				acts = append(acts, deleteIfPresent(v, ref, val, " (DHCP lease)")...)
			}
		}
	}
	tcpip6 := ccs(v, `Services\Tcpip6\Parameters`)
	acts = append(acts, deleteIfPresent(v, tcpip6, "Dhcpv6DUID", " (DHCPv6 DUID; regenerated at boot)")...)

	sw := func(p string) winimage.KeyRef { return winimage.KeyRef{Hive: winimage.HiveSoftware, Path: p} }
	acts = append(acts, deleteIfPresent(v, sw(`Microsoft\Cryptography`), "MachineGuid", " (CAPI machine GUID; created anew at specialize)")...)
	wu := sw(`Microsoft\Windows\CurrentVersion\WindowsUpdate`)
	for _, name := range []string{"SusClientId", "SusClientIDValidation", "PingID", "AccountDomainSid"} {
		acts = append(acts, deleteIfPresent(v, wu, name, " (Windows Update client identity)")...)
	}
	acts = append(acts, deleteIfPresent(v, sw(`Microsoft\SQMClient`), "MachineId", " (telemetry machine id)")...)
	acts = append(acts, deleteIfPresent(v, sw(`Microsoft\Windows Advanced Threat Protection`), "senseGuid", " (Defender for Endpoint device id)")...)

	nl := `Microsoft\Windows NT\CurrentVersion\NetworkList`
	for _, sub := range []string{`Profiles`, `Signatures\Unmanaged`, `Signatures\Managed`, `Nla\Cache\Intranet`} {
		acts = append(acts, deleteSubKeys(v, sw(nl+`\`+sub), "network location")...)
	}
	rdpCerts := deleteSubKeys(v, sw(`Microsoft\SystemCertificates\Remote Desktop\Certificates`), "Remote Desktop self-signed certificate")
	if len(rdpCerts) > 0 {
		// The listener names its certificate by thumbprint; without the
		// certificate the thumbprint must go too, so that a new one is made.
		acts = append(acts, rdpCerts...)
		acts = append(acts, deleteIfPresent(v, ccs(v, `Control\Terminal Server\WinStations\RDP-Tcp`), "SSLCertificateSHA1Hash", " (thumbprint of the deleted certificate)")...)
	}
	return acts, nil
}

// deleteSubKeys deletes every subkey of a key, keeping the key itself.
func deleteSubKeys(v *winimage.Volume, parent winimage.KeyRef, what string) []Action {
	k, err := v.OpenKey(parent)
	if err != nil {
		return nil
	}
	names, err := k.SubKeyNames()
	if err != nil {
		return nil
	}
	var acts []Action
	for _, n := range names {
		acts = append(acts, deleteKey(winimage.KeyRef{Hive: parent.Hive, Path: parent.Path + `\` + n}, what))
	}
	return acts
}

// placeholderName sets a present name value to the placeholder, unless it
// already holds it (an image generalized before and not booted since).
func placeholderName(v *winimage.Volume, ref winimage.KeyRef, name string) []Action {
	cur, ok := v.String(ref, name)
	if !ok || cur == placeholderComputerName {
		return nil
	}
	return []Action{setString(ref, name, placeholderComputerName)}
}
