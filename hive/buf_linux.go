package hive

import (
	"syscall"
	"unsafe"
)

// hugeBufMin is the size from which a hive's buffer is advised to use
// transparent huge pages: below it, the page faults cost little.
const hugeBufMin = 2 << 20

// newBuffer returns a zeroed buffer of n bytes. A large one, fresh from
// the Go heap and not yet touched, is advised to use transparent huge
// pages (MADV_HUGEPAGE; only advice, on the 2 MiB-aligned part of it):
// reading an 11 MB hive into 4 KiB pages costs a page fault per page,
// and on a virtual machine each costs more than the copy.
func newBuffer(n int) []byte {
	b := make([]byte, n)
	if n < hugeBufMin {
		return b
	}
	const huge = 2 << 20
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (start + huge - 1) &^ (huge - 1)
	hi := (start + uintptr(n)) &^ (huge - 1)
	if hi > lo {
		_ = syscall.Madvise(b[lo-start:hi-start], 14) // MADV_HUGEPAGE
	}
	return b
}
