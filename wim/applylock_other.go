//go:build !unix

package wim

// lockTarget: no advisory lock on directories here (see applystale.go).
func lockTarget(string) (release func(), locked bool) { return func() {}, false }
