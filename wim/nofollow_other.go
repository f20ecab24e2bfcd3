//go:build !unix

package wim

const oNoFollow = 0
