//go:build !unix

package main

import (
	"errors"
	"os"
)

func lockForTest(*os.File) error { return errors.New("no flock") }
