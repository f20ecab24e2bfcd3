package lzms

import (
	"syscall"
	"unsafe"
)

// adviseHugePages asks the kernel to back the match finder's big arrays
// with transparent huge pages where it gives them only on request
// (/sys/kernel/mm/transparent_hugepage/enabled = madvise, the common
// default). Their walks jump across hundreds of MiB, so with 4 KiB pages
// nearly every step also misses the TLB; with 2 MiB pages the page walks
// mostly go away (docs/codec-lzms.md). Only whole pages inside the slice
// are advised, and a failure (older kernel, THP off) changes nothing but
// speed, so it is ignored.
func adviseHugePages[T any](s []T) {
	if len(s) == 0 {
		return
	}
	const page = 4096
	size := uintptr(len(s)) * unsafe.Sizeof(s[0])
	start := uintptr(unsafe.Pointer(&s[0]))
	first := (start + page - 1) &^ (page - 1)
	last := (start + size) &^ (page - 1)
	if size < 2<<20 || last <= first {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), size)
	_ = syscall.Madvise(b[first-start:last-start], syscall.MADV_HUGEPAGE)
}
