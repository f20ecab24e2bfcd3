// Command reseal prepares Windows images offline: it generalizes an offline
// Windows volume the way Sysprep does, validates answer files, edits registry
// hives, and captures and applies WIM images.
//
// This package is deliberately thin: it parses flags, calls the library
// packages and renders their results as text or JSON.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

func main() {
	// Ctrl-C and a service manager's SIGTERM both cancel the context, so a
	// run ends through its own clean-up (lock released, temporary files
	// removed) rather than being cut off.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The readers budget what they hold (a WIM's metadata, a hive) to a few
	// hundred MB; a soft limit makes the collector return the garbage of
	// reading it before the heap doubles, so that the peak stays under
	// 512 MB whatever the input (docs/wim.md, "Security"). GOMEMLIMIT, if
	// set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(baseMemoryLimit)
	}
	code := run(ctx, os.Args[1:], &stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, ErrIsTerminal: isTerminal(os.Stderr)})
	stop()
	os.Exit(code)
}

// baseMemoryLimit is the binary's soft memory limit (see main).
const baseMemoryLimit = 384 << 20

// raiseMemoryLimit adds to the soft memory limit what a command holds by
// design, such as the compressors of a solid resource (wim.SolidMemory),
// so that the collector does not run over and over for memory in use. A
// GOMEMLIMIT from the environment is left as it is.
func raiseMemoryLimit(extra int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(baseMemoryLimit + extra)
	}
}

// effectiveThreads is --threads as the wim package resolves it.
func effectiveThreads(n int) int {
	if n <= 0 {
		return runtime.NumCPU()
	}
	return n
}
