//go:build !linux

package main

import "errors"

func newExt4(img, mnt string, size int64) (string, func(), error) {
	return "", nil, errors.New("-apply-on ext4 needs Linux")
}
