//go:build linux

package wim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// NTFS-3G exposes NTFS metadata as extended attributes: the security
// descriptor (system.ntfs_acl), the attributes (system.ntfs_attrib), the DOS
// name (system.ntfs_dos_name), the reparse data (system.ntfs_reparse_data),
// the four timestamps (system.ntfs_times) and, when mounted with
// streams_interface=xattr, the named data streams (user.NAME).
const (
	xattrACL     = "system.ntfs_acl"
	xattrAttrib  = "system.ntfs_attrib"
	xattrDOSName = "system.ntfs_dos_name"
	xattrReparse = "system.ntfs_reparse_data"
	xattrTimes   = "system.ntfs_times"
	xattrStream  = "user."
	maxADSSize   = maxADSBytes
)

// isNTFS3G reports whether path lies on an NTFS-3G mount.
func isNTFS3G(path string) bool {
	var b [4]byte
	_, err := unix.Lgetxattr(path, xattrAttrib, b[:])
	return err == nil
}

// getXattr reads one attribute; absent ones give nil without an error.
func getXattr(path, name string, limit int) ([]byte, error) {
	size, err := unix.Lgetxattr(path, name, nil)
	if err != nil {
		if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, syscall.EIO) || errors.Is(err, unix.EPERM) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: read %s: %w", path, name, err)
	}
	if size > limit {
		return nil, fmt.Errorf("%s: %s has %d bytes, more than the %d this tool reads", path, name, size, limit)
	}
	buf := make([]byte, size)
	n, err := unix.Lgetxattr(path, name, buf)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", path, name, err)
	}
	return buf[:n], nil
}

// ntfsMeta is what NTFS-3G tells about one file.
type ntfsMeta struct {
	attrib    uint32
	hasAttrib bool
	acl       []byte
	dosName   string
	reparse   []byte // without the 8-byte header
	tag       uint32
	times     [3]uint64 // creation, last write, last access
	hasTimes  bool
	streams   []adsData
}

type adsData struct {
	name string
	data []byte
}

func readNTFSMeta(path string) (*ntfsMeta, error) {
	m := &ntfsMeta{}
	b, err := getXattr(path, xattrAttrib, 4)
	if err != nil {
		return nil, err
	}
	if len(b) == 4 {
		m.attrib, m.hasAttrib = binary.LittleEndian.Uint32(b), true
	}
	if m.acl, err = getXattr(path, xattrACL, 1<<20); err != nil {
		return nil, err
	}
	if b, err = getXattr(path, xattrDOSName, 64); err != nil {
		return nil, err
	}
	m.dosName = string(b)
	if b, err = getXattr(path, xattrReparse, 16<<10+8); err != nil {
		return nil, err
	}
	if len(b) >= 8 {
		n := int(binary.LittleEndian.Uint16(b[4:]))
		if 8+n > len(b) {
			return nil, fmt.Errorf("%s: reparse data shorter than its header says", path)
		}
		m.tag, m.reparse = binary.LittleEndian.Uint32(b), b[8:8+n]
	}
	if b, err = getXattr(path, xattrTimes, 32); err != nil {
		return nil, err
	}
	if len(b) >= 24 {
		m.hasTimes = true
		for i := range m.times {
			m.times[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	}
	names, err := listXattr(path)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if !strings.HasPrefix(name, xattrStream) || len(name) == len(xattrStream) {
			continue
		}
		data, err := getXattr(path, name, maxADSSize)
		if err != nil {
			return nil, err
		}
		m.streams = append(m.streams, adsData{name: name[len(xattrStream):], data: data})
	}
	return m, nil
}

func listXattr(path string) ([]string, error) {
	size, err := unix.Llistxattr(path, nil)
	if err != nil || size == 0 {
		return nil, nil
	}
	buf := make([]byte, size)
	n, err := unix.Llistxattr(path, buf)
	if err != nil {
		return nil, nil
	}
	var names []string
	for _, s := range strings.Split(string(buf[:n]), "\x00") {
		if s != "" {
			names = append(names, s)
		}
	}
	return names, nil
}

// setXattr writes one attribute.
func setXattr(path, name string, data []byte) error {
	if err := unix.Lsetxattr(path, name, data, 0); err != nil {
		return fmt.Errorf("%s: set %s: %w", path, name, err)
	}
	return nil
}
