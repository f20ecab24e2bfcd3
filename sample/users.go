package sample

// buildUserHives writes DEFAULT (the profile of the system account and
// the template of the logon screen), the Default user profile's NTUSER.DAT
// (copied for every new user) and the golden user's NTUSER.DAT.
func (v *volume) buildUserHives() {
	v.userHive(v.hive(defaultHive), `%SystemRoot%\System32\config\systemprofile`, false)
	v.userHive(v.hive("Users/Default/NTUSER.DAT"), `%USERPROFILE%`, false)
	v.userHive(v.hive("Users/"+v.id.userName+"/NTUSER.DAT"), `C:\Users\`+v.id.userName, true)
	admin := v.hive("Users/Administrator/NTUSER.DAT")
	v.userHive(admin, `C:\Users\Administrator`, true)
	// What the image's action files clean from the account Sysprep runs
	// as (HKEY_CURRENT_USER): the sample's Cleanup.xml removes these.
	admin.sz(`Software\Microsoft\Windows\CurrentVersion\Explorer\TypedPaths`, "url1", `C:\Windows\System32\Sysprep`)
	admin.dword(`Software\Microsoft\Windows\CurrentVersion\Explorer\Advanced`, "StartMenuInit", 13)
}

func (v *volume) userHive(t *regTree, profile string, used bool) {
	d := `Control Panel\Desktop`
	t.sz(d, "AutoEndTasks", "0")
	t.sz(d, "MenuShowDelay", "400")
	t.sz(d, "WallPaper", "")
	t.sz(d, "WheelScrollLines", "3")
	t.bin(d, "UserPreferencesMask", []byte{0x9e, 0x1e, 0x07, 0x80, 0x12, 0x00, 0x00, 0x00})
	in := `Control Panel\International`
	t.sz(in, "Locale", "00000409")
	t.sz(in, "LocaleName", "en-US")
	t.sz(in, "sShortDate", "M/d/yyyy")
	t.sz(in, "sTimeFormat", "h:mm:ss tt")
	t.sz(in, "sCountry", "United States")
	t.sz(`Keyboard Layout\Preload`, "1", "00000409")
	t.key(`Keyboard Layout\Substitutes`)
	t.expand(`Environment`, "TEMP", `%USERPROFILE%\AppData\Local\Temp`)
	t.expand(`Environment`, "TMP", `%USERPROFILE%\AppData\Local\Temp`)
	t.expand(`Environment`, "Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`)
	sf := `Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders`
	t.expand(sf, "Desktop", `%USERPROFILE%\Desktop`)
	t.expand(sf, "Personal", `%USERPROFILE%\Documents`)
	t.expand(sf, "Local AppData", `%USERPROFILE%\AppData\Local`)
	t.expand(sf, "AppData", `%USERPROFILE%\AppData\Roaming`)
	t.dword(`Software\Microsoft\Windows\CurrentVersion\Explorer\Advanced`, "HideFileExt", 1)
	t.dword(`Software\Microsoft\Windows\CurrentVersion\Explorer\Advanced`, "Hidden", 2)
	if !used {
		return
	}
	// What a person's session leaves behind.
	t.sz(`Software\Microsoft\Windows\CurrentVersion\Run`, "OneDrive", `"C:\Users\`+v.id.userName+`\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background`)
	rd := `Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\.txt`
	t.bin(rd, "0", append(utf16z("notes.txt"), 0x00, 0x00))
	t.bin(rd, "MRUListEx", []byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	t.sz(`Software\Microsoft\Windows\CurrentVersion\Explorer\RunMRU`, "a", `cmd\1`)
	t.sz(`Software\Microsoft\Windows\CurrentVersion\Explorer\RunMRU`, "MRUList", "a")
}
