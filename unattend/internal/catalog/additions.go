package catalog

// addition is a setting the 2018 reference does not list, kept by hand with
// where Microsoft documents it.
type addition struct {
	Setting
	DocumentedAt string
}

// additions are the project's own entries. Add one only for a setting that
// real answer files use and Microsoft documents; everything else unknown is
// reported as a warning, never an error.
//
// The corpus uses no setting introduced after 2018. It does use two older
// ones that the 2018 reference had already dropped; knowing them lets the
// validator say "deprecated" (and check their pass and values) instead of
// "unknown". Microsoft-Windows-Shell-Setup/ShowWindowsLive (also in the
// corpus) stays unknown: no Microsoft page for it was found.
var additions = []addition{
	{
		Setting: Setting{Component: "Microsoft-Windows-Shell-Setup", Path: "OOBE/SkipMachineOOBE",
			Passes: passSet("oobeSystem"), Values: []string{"true", "false"}, Deprecated: true, Added: true},
		// "This setting has been deprecated in Windows 8"; valid pass oobeSystem.
		DocumentedAt: "https://technet.microsoft.com/en-us/library/ff716280.aspx",
	},
	{
		Setting: Setting{Component: "Microsoft-Windows-Shell-Setup", Path: "OOBE/SkipUserOOBE",
			Passes: passSet("oobeSystem"), Values: []string{"true", "false"}, Deprecated: true, Added: true},
		// Listed as a child of OOBE (valid pass oobeSystem) in the Windows
		// Vista/7 reference; deprecated with SkipMachineOOBE.
		DocumentedAt: "http://technet.microsoft.com/en-us/library/cc766165(v=ws.10).aspx",
	},
}

func passSet(passes ...string) PassSet {
	var s PassSet
	for _, p := range passes {
		b, ok := PassBit(p)
		if !ok {
			panic("catalog: unknown pass " + p) // a typo in this file; the tests catch it
		}
		s |= b
	}
	return s
}
