// Command wimbench captures and applies the same tree with reseal and with
// wimlib-imagex, at the same compression and thread count, and prints the
// time and size ratios (reseal / wimlib). It is a measurement, not a test:
// run it by hand (it takes minutes and needs several GB of free space).
//
//	go run ./bench/wim [-tree DIR] [-threads N] [-work DIR]
//
// Without -tree it builds one: a copy of $(go env GOROOT) plus a few large
// binaries from /usr/bin.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

func main() {
	tree := flag.String("tree", "", "tree to capture (default: build one)")
	threads := flag.Int("threads", runtime.NumCPU(), "compression threads for both tools")
	work := flag.String("work", "", "scratch directory (default: a temporary one)")
	reps := flag.Int("reps", 1, "runs of each command; the fastest counts")
	flag.Parse()
	if err := run(*tree, *work, *threads, *reps); err != nil {
		fmt.Fprintln(os.Stderr, "wimbench:", err)
		os.Exit(1)
	}
}

func run(tree, work string, threads, reps int) error {
	wimlib, err := exec.LookPath("wimlib-imagex")
	if err != nil {
		return err
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "wimbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	reseal := filepath.Join(work, "reseal")
	if out, err := exec.Command("go", "build", "-o", reseal, "./cmd/reseal").CombinedOutput(); err != nil {
		return fmt.Errorf("build reseal (run from the repository root): %v\n%s", err, out)
	}
	if tree == "" {
		tree = filepath.Join(work, "tree")
		if err := buildTree(tree); err != nil {
			return err
		}
	}
	size, files := treeSize(tree)
	fmt.Printf("tree %s: %d files, %.1f MB; threads %d; %s\n", tree, files, float64(size)/1e6, threads, runtime.Version())
	fmt.Printf("%-14s %9s %9s %7s %9s %9s %7s %10s %10s %7s\n", "", "reseal s", "wimlib s", "time x", "cpu s", "cpu s", "cpu x", "reseal MB", "wimlib MB", "size x")
	th := fmt.Sprint(threads)
	for _, comp := range []string{"none", "xpress", "lzx"} {
		ours := filepath.Join(work, "reseal-"+comp+".wim")
		theirs := filepath.Join(work, "wimlib-"+comp+".wim")
		tOurs, cOurs, err := timeIt(reps, func() { os.Remove(ours) }, reseal, "capture", tree, ours, "--compress", comp, "--threads", th, "--quiet")
		if err != nil {
			return err
		}
		tTheirs, cTheirs, err := timeIt(reps, func() { os.Remove(theirs) }, wimlib, "capture", tree, theirs, "--compress="+comp, "--threads="+th)
		if err != nil {
			return err
		}
		so, st := fileSize(ours), fileSize(theirs)
		fmt.Printf("%-14s %9.2f %9.2f %7.2f %9.2f %9.2f %7.2f %10.1f %10.1f %7.3f\n", "capture "+comp, tOurs, tTheirs, tOurs/tTheirs, cOurs, cTheirs, cOurs/cTheirs, float64(so)/1e6, float64(st)/1e6, float64(so)/float64(st))
	}
	// LZMS (128 KiB chunks) and solid (LZMS, 64 MiB chunks) capture rows;
	// wimlib's WIMs of them feed the apply rows below.
	for _, row := range []struct{ name, ours, theirs string }{
		{"lzms", "--compress=lzms", "--compress=LZMS"},
		{"solid", "--solid", "--solid"},
	} {
		ours := filepath.Join(work, "reseal-"+row.name+".wim")
		theirs := filepath.Join(work, "wimlib-"+row.name+".wim")
		tOurs, cOurs, err := timeIt(reps, func() { os.Remove(ours) }, reseal, "capture", tree, ours, row.ours, "--threads", th, "--quiet")
		if err != nil {
			return err
		}
		tTheirs, cTheirs, err := timeIt(reps, func() { os.Remove(theirs) }, wimlib, "capture", tree, theirs, row.theirs, "--threads="+th)
		if err != nil {
			return err
		}
		so, st := fileSize(ours), fileSize(theirs)
		fmt.Printf("%-14s %9.2f %9.2f %7.2f %9.2f %9.2f %7.2f %10.1f %10.1f %7.3f\n", "capture "+row.name, tOurs, tTheirs, tOurs/tTheirs, cOurs, cTheirs, cOurs/cTheirs, float64(so)/1e6, float64(st)/1e6, float64(so)/float64(st))
	}
	for _, comp := range []string{"none", "xpress", "lzx", "lzms", "solid"} {
		src := filepath.Join(work, "wimlib-"+comp+".wim")
		dest := filepath.Join(work, "apply")
		clean := func() { os.RemoveAll(dest) }
		tOurs, cOurs, err := timeIt(reps, clean, reseal, "apply", src, "1", dest, "--quiet")
		if err != nil {
			return err
		}
		tTheirs, cTheirs, err := timeIt(reps, clean, wimlib, "apply", src, "1", dest)
		if err != nil {
			return err
		}
		clean()
		fmt.Printf("%-14s %9.2f %9.2f %7.2f %9.2f %9.2f %7.2f\n", "apply "+comp, tOurs, tTheirs, tOurs/tTheirs, cOurs, cTheirs, cOurs/cTheirs)
	}
	return nil
}

// timeIt runs the command reps times (after prepare each time) and returns
// the fastest wall time and the smallest CPU time (user + system), in
// seconds. CPU time is the steadier figure on a shared machine.
func timeIt(reps int, prepare func(), name string, args ...string) (float64, float64, error) {
	best, bestCPU := 0.0, 0.0
	for i := 0; i < reps; i++ {
		prepare()
		cmd := exec.Command(name, args...)
		cmd.Stdout = io.Discard
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, 0, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
		}
		d := time.Since(start).Seconds()
		if best == 0 || d < best {
			best = d
		}
		cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		if bestCPU == 0 || cpu < bestCPU {
			bestCPU = cpu
		}
	}
	return best, bestCPU, nil
}

func buildTree(tree string) error {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(tree, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", strings.TrimSpace(string(goroot)), filepath.Join(tree, "go")).CombinedOutput(); err != nil {
		return fmt.Errorf("copy GOROOT: %v\n%s", err, out)
	}
	// A few large binaries: the biggest executables in /usr/bin.
	entries, _ := os.ReadDir("/usr/bin")
	type bin struct {
		name string
		size int64
	}
	var bins []bin
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			bins = append(bins, bin{e.Name(), info.Size()})
		}
	}
	sort.Slice(bins, func(i, j int) bool { return bins[i].size > bins[j].size })
	os.MkdirAll(filepath.Join(tree, "bin"), 0o755)
	for _, b := range bins[:min(4, len(bins))] {
		if out, err := exec.Command("cp", "-a", filepath.Join("/usr/bin", b.name), filepath.Join(tree, "bin", b.name)).CombinedOutput(); err != nil {
			return fmt.Errorf("copy %s: %v\n%s", b.name, err, out)
		}
	}
	return nil
}

func treeSize(root string) (int64, int) {
	var size int64
	var n int
	filepath.Walk(root, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			size += info.Size()
			n++
		}
		return nil
	})
	return size, n
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}
