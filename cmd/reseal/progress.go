package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressMeter times a long operation and, when a person watches stderr
// and --quiet was not given, draws "label: done of total (pct) rate, ETA" on
// one line of the terminal, at most ten times a second. The summary line a
// command prints on success uses its elapsed time, with or without a
// terminal.
type progressMeter struct {
	mu    sync.Mutex
	w     io.Writer
	draw  bool
	label string
	start time.Time
	last  time.Time
	drawn bool
}

func newProgress(sio *stdio, quiet bool, label string) *progressMeter {
	return &progressMeter{w: sio.Err, draw: !quiet && sio.ErrIsTerminal, label: label, start: time.Now()}
}

// callback returns the function to hand to the library, or nil when
// nothing is drawn.
func (p *progressMeter) callback() func(done, total int64) {
	if p == nil || !p.draw {
		return nil
	}
	return p.update
}

// elapsed is the time since the meter was made.
func (p *progressMeter) elapsed() time.Duration { return time.Since(p.start) }

// An ETA is shown only once the rate means something: after etaAfter, and
// once etaMinShare of the work is done (the first blobs of a capture are
// often tiny files, read far slower per byte than the rest).
const (
	etaAfter    = 2 * time.Second
	etaMinShare = 0.02
)

func (p *progressMeter) update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "\r\x1b[K%s", progressLine(p.label, done, total, now.Sub(p.start)))
	p.drawn = true
}

// progressLine is one frame of the meter.
func progressLine(label string, done, total int64, elapsed time.Duration) string {
	line := fmt.Sprintf("%s: %s of %s", label, humanBytes(done), humanBytes(total))
	if total > 0 {
		line += fmt.Sprintf(" (%d%%)", done*100/total)
	}
	if elapsed < 200*time.Millisecond || done <= 0 {
		return line
	}
	rate := float64(done) / elapsed.Seconds()
	line += fmt.Sprintf(", %s/s", humanBytes(int64(rate)))
	if total > done && elapsed >= etaAfter && float64(done) >= etaMinShare*float64(total) {
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		line += fmt.Sprintf(", %s left", eta.Round(time.Second))
	}
	return line
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
