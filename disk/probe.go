package disk

import "io"

// Volume kinds found by Probe.
const (
	VolumeNTFS      = "ntfs"
	VolumeBitLocker = "bitlocker"
	VolumeFAT       = "fat"
	VolumeUnknown   = "unknown"
)

// Probe names the file system at the start of a volume from its boot
// sector's signature. A BitLocker volume ("-FVE-FS-") is reported as such:
// its content is encrypted and must never be read as NTFS.
func Probe(r io.ReaderAt) string {
	var b [512]byte
	if n, _ := r.ReadAt(b[:], 0); n < len(b) {
		return VolumeUnknown
	}
	switch {
	case string(b[3:11]) == "-FVE-FS-":
		return VolumeBitLocker
	case string(b[3:11]) == "NTFS    ":
		return VolumeNTFS
	case string(b[54:59]) == "FAT12" || string(b[54:59]) == "FAT16" || string(b[82:87]) == "FAT32":
		return VolumeFAT
	}
	return VolumeUnknown
}
