// Command servicingbench times generalizing an image inside its WIM
// (reseal generalize IMG.wim:1 --append, and -o OUT.wim) against the loop it
// replaces: wimlib-imagex apply, reseal generalize on the applied
// directory, wimlib-imagex capture. It prints both times and their ratio
// (target: at most 0.2x) with the machine's load. It is a measurement, not
// a test: run it by hand from the repository root.
//
//	go run ./bench/servicing [-pad DIR] [-threads N] [-reps N] [-work DIR]
//
// The image is a sample Windows volume (reseal sample) made image-sized
// with a copy of $(go env GOROOT) under Program Files (or -pad DIR),
// captured by wimlib with LZX.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/reseal/reseal/bench/internal/benchutil"
)

func main() {
	pad := flag.String("pad", "", "tree copied into the image to give it size (default: GOROOT)")
	threads := flag.Int("threads", runtime.NumCPU(), "compression threads for both tools")
	work := flag.String("work", "", "scratch directory (default: a temporary one)")
	reps := flag.Int("reps", 1, "runs of each path; the fastest counts")
	flag.Parse()
	if err := run(*pad, *work, *threads, *reps); err != nil {
		fmt.Fprintln(os.Stderr, "servicingbench:", err)
		os.Exit(1)
	}
}

func run(pad, work string, threads, reps int) error {
	wimlib, err := exec.LookPath("wimlib-imagex")
	if err != nil {
		return err
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "servicingbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	reseal := filepath.Join(work, "reseal")
	if err := sh("go", "build", "-o", reseal, "./cmd/reseal"); err != nil {
		return fmt.Errorf("build reseal (run from the repository root): %w", err)
	}
	vol := filepath.Join(work, "vol")
	if err := sh(reseal, "sample", vol); err != nil {
		return err
	}
	if pad == "" {
		goroot, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			return err
		}
		pad = strings.TrimSpace(string(goroot))
	}
	if err := sh("cp", "-a", pad, filepath.Join(vol, "Program Files", "pad")); err != nil {
		return err
	}
	size, files := benchutil.TreeSize(vol)
	golden := filepath.Join(work, "golden.wim")
	th := fmt.Sprint(threads)
	if err := sh(wimlib, "capture", vol, golden, "golden", "--compress=lzx", "--threads="+th); err != nil {
		return err
	}
	fmt.Printf("image: sample volume + %s: %d files, %.1f MB; WIM (wimlib, LZX) %.1f MB; threads %d; %s\n",
		pad, files, float64(size)/1e6, float64(benchutil.FileSize(golden))/1e6, threads, runtime.Version())
	load0 := benchutil.LoadAverage(3)

	// reseal, inside the WIM.
	appendWIM := filepath.Join(work, "append.wim")
	tAppend, err := best(reps, func() error { return sh("cp", golden, appendWIM) }, func() error {
		return sh(reseal, "generalize", appendWIM+":1", "--append", "--quiet")
	})
	if err != nil {
		return err
	}
	outWIM := filepath.Join(work, "out.wim")
	tOut, err := best(reps, func() error { os.Remove(outWIM); return nil }, func() error {
		return sh(reseal, "generalize", golden+":1", "-o", outWIM, "--quiet")
	})
	if err != nil {
		return err
	}

	// The loop: apply, generalize the directory, capture.
	applied := filepath.Join(work, "applied")
	loopWIM := filepath.Join(work, "loop.wim")
	var tApply, tGen, tCapture float64
	tLoop, err := best(reps, func() error {
		os.RemoveAll(applied)
		os.Remove(loopWIM)
		return nil
	}, func() error {
		var err error
		if tApply, err = timed(func() error { return sh(wimlib, "apply", golden, "1", applied) }); err != nil {
			return err
		}
		if tGen, err = timed(func() error { return sh(reseal, "generalize", applied, "--quiet") }); err != nil {
			return err
		}
		tCapture, err = timed(func() error {
			return sh(wimlib, "capture", applied, loopWIM, "generalized", "--compress=lzx", "--threads="+th)
		})
		return err
	})
	if err != nil {
		return err
	}
	load1 := benchutil.LoadAverage(3)
	fmt.Printf("%-44s %8s %8s\n", "", "seconds", "x loop")
	fmt.Printf("%-44s %8.2f %8.3f\n", "reseal generalize IMG.wim:1 --append", tAppend, tAppend/tLoop)
	fmt.Printf("%-44s %8.2f %8.3f\n", "reseal generalize IMG.wim:1 -o OUT.wim", tOut, tOut/tLoop)
	fmt.Printf("%-44s %8.2f %8.3f\n", "loop: wimlib apply + reseal generalize + wimlib capture", tLoop, 1.0)
	fmt.Printf("%-44s %8.2f\n", "  wimlib-imagex apply", tApply)
	fmt.Printf("%-44s %8.2f\n", "  reseal generalize DIR", tGen)
	fmt.Printf("%-44s %8.2f\n", "  wimlib-imagex capture (LZX)", tCapture)
	fmt.Printf("load average before %s, after %s (%d CPUs): figures on a loaded machine are noisy\n", load0, load1, runtime.NumCPU())
	return nil
}

func sh(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

func timed(fn func() error) (float64, error) {
	start := time.Now()
	err := fn()
	return time.Since(start).Seconds(), err
}

func best(reps int, prepare, fn func() error) (float64, error) {
	b := 0.0
	for i := 0; i < max(reps, 1); i++ {
		if err := prepare(); err != nil {
			return 0, err
		}
		d, err := timed(fn)
		if err != nil {
			return 0, err
		}
		if b == 0 || d < b {
			b = d
		}
	}
	return b, nil
}
