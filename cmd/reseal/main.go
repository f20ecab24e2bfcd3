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
	"syscall"
)

func main() {
	// Ctrl-C and a service manager's SIGTERM both cancel the context, so a
	// run ends through its own clean-up (lock released, temporary files
	// removed) rather than being cut off.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, ErrIsTerminal: isTerminal(os.Stderr)})
	stop()
	os.Exit(code)
}
