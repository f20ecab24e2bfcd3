//go:build !linux

package main

import "os"

// peakRSS is not measured outside Linux (ru_maxrss is in other units or
// absent there): the RSS columns show 0.
func peakRSS(*os.ProcessState) int64 { return 0 }
