//go:build unix

package wim

import "syscall"

const oNoFollow = syscall.O_NOFOLLOW
