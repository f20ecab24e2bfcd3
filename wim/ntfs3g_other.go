//go:build !linux

package wim

import "errors"

type ntfsMeta struct {
	attrib    uint32
	hasAttrib bool
	acl       []byte
	dosName   string
	reparse   []byte
	tag       uint32
	times     [3]uint64
	hasTimes  bool
	streams   []adsData
}

type adsData struct {
	name string
	data []byte
}

func isNTFS3G(string) bool { return false }

func readNTFSMeta(string) (*ntfsMeta, error) { return nil, errors.ErrUnsupported }

func setXattr(path, name string, data []byte) error { return errors.ErrUnsupported }
