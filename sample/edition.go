package sample

import "fmt"

// edition is what SOFTWARE\Microsoft\Windows NT\CurrentVersion says of
// the installation, with the values real installations of that release
// carry.
type edition struct {
	windows          string // the Options.Windows name
	productName      string
	editionID        string
	compositionID    string
	build            int
	ubr              int
	displayVersion   string
	installationType string // Client or Server
	buildBranch      string
	buildLab         string // BuildLab (without the revision)
	productType      string // SYSTEM Control\ProductOptions ProductType
}

var editions = map[string]edition{
	"10": {
		windows: "10", productName: "Windows 10 Pro", editionID: "Professional", compositionID: "Enterprise",
		build: 19045, ubr: 5487, displayVersion: "22H2", installationType: "Client",
		buildBranch: "vb_release", buildLab: "19041.vb_release.191206-1406", productType: "WinNT",
	},
	// Windows 11 still calls itself "Windows 10 Pro" in ProductName; tools
	// tell it apart by the build number.
	"11": {
		windows: "11", productName: "Windows 10 Pro", editionID: "Professional", compositionID: "Enterprise",
		build: 22631, ubr: 4890, displayVersion: "23H2", installationType: "Client",
		buildBranch: "ni_release", buildLab: "22621.ni_release.220506-1250", productType: "WinNT",
	},
	"server2022": {
		windows: "server2022", productName: "Windows Server 2022 Datacenter", editionID: "ServerDatacenter", compositionID: "ServerDatacenter",
		build: 20348, ubr: 3207, displayVersion: "21H2", installationType: "Server",
		buildBranch: "fe_release", buildLab: "20348.fe_release.210507-1500", productType: "ServerNT",
	},
}

func (e edition) server() bool { return e.installationType == "Server" }

// version is the full file version of the build, 10.0.build.ubr.
func (e edition) version() string { return fmt.Sprintf("10.0.%d.%d", e.build, e.ubr) }
