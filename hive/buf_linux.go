package hive

import (
	"syscall"
	"unsafe"
)

// hugeBufMin is the size from which a hive's (or a log's) buffer is
// advised to use transparent huge pages: below it, the page faults cost
// little.
const hugeBufMin = 2 << 20

// newBuffer returns a zeroed buffer of n bytes. A large one starts on a
// 2 MiB boundary inside an allocation 2 MiB larger (fresh from the Go
// heap, not yet touched; the unused head is never touched) and is advised
// to use transparent huge pages (MADV_HUGEPAGE; only advice: the memory
// stays the Go heap's): reading an 11 MB hive into 4 KiB pages costs a
// page fault per page, and on a virtual machine each costs more than the
// copy.
func newBuffer(n int) []byte {
	const huge = 2 << 20
	if n < hugeBufMin {
		return make([]byte, n)
	}
	b := make([]byte, n+huge)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	off := int((start+huge-1)&^(huge-1) - start)
	end := min(len(b), off+(n+huge-1)&^(huge-1))
	_ = syscall.Madvise(b[off:end], 14) // MADV_HUGEPAGE
	return b[off : off+n : off+n]
}
