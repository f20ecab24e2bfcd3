package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressMeter draws "label: done of total (pct) rate, ETA" on one line of
// a terminal, at most ten times a second. It is only created when a person
// watches stderr; otherwise commands pass a nil callback.
type progressMeter struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	start time.Time
	last  time.Time
	drawn bool
}

func newProgress(sio *stdio, quiet bool, label string) *progressMeter {
	if quiet || !sio.ErrIsTerminal {
		return nil
	}
	return &progressMeter{w: sio.Err, label: label, start: time.Now()}
}

// callback returns the function to hand to the library, or nil.
func (p *progressMeter) callback() func(done, total int64) {
	if p == nil {
		return nil
	}
	return p.update
}

func (p *progressMeter) update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start).Seconds()
	line := fmt.Sprintf("%s: %s of %s", p.label, humanBytes(done), humanBytes(total))
	if total > 0 {
		line += fmt.Sprintf(" (%d%%)", done*100/total)
	}
	if elapsed > 0.2 && done > 0 {
		rate := float64(done) / elapsed
		line += fmt.Sprintf(", %s/s", humanBytes(int64(rate)))
		if total > done {
			eta := time.Duration(float64(total-done)/rate) * time.Second
			line += fmt.Sprintf(", %s left", eta.Round(time.Second))
		}
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	p.drawn = true
}

// finish ends the progress line so that later messages start on a new one.
func (p *progressMeter) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
