// Command reg measures `reseal reg import` against `hivexregedit --merge`
// on the same 10,000-value .reg file applied to copies of the same hive,
// and the time reseal takes to open, recover (from its logs) and commit
// the dirty corpus hive SYSTEM_B. It prints the times and their ratio.
//
// It is not part of `go test ./...`; run it from the repository root:
//
//	go run ./bench/reg                 # corpus at ../shared/corpus or $RESEAL_CORPUS
//	go run ./bench/reg -runs 5 -values 10000
//	go run ./bench/reg -write-reg /tmp/bench.reg   # only write the .reg file
//	go run ./bench/reg -rows systemb -runs 5        # only the SYSTEM_B rows (3 x 5 runs)
//
// It needs hivexregedit (Debian: libwin-hivex-perl) on $PATH and the Go
// toolchain to build reseal. Timings are wall-clock medians of -runs runs,
// each on a fresh copy of the hive; both tools run as processes, so both
// pay for starting up, reading the hive and writing it back (reseal with an
// atomic, synced replace).
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/reseal/reseal/bench/internal/benchutil"
	"github.com/reseal/reseal/hive"
	"github.com/reseal/reseal/hive/regfile"
	"github.com/reseal/reseal/internal/testenv"
)

const prefix = `HKEY_LOCAL_MACHINE\SYSTEM`

func main() {
	runs := flag.Int("runs", 3, "runs per measurement (the median is reported)")
	values := flag.Int("values", 10000, "values in the generated .reg file")
	corpus := flag.String("corpus", testenv.CorpusDir(), "corpus directory")
	writeReg := flag.String("write-reg", "", "only write the generated .reg file here, and exit")
	only := flag.String("rows", "import,systemb", "rows to run: import (10,000 values, both base hives), systemb (open + recover + commit of SYSTEM_B)")
	flag.Parse()
	if *writeReg != "" {
		if err := writeBenchReg(*writeReg, *values); err != nil {
			fmt.Fprintln(os.Stderr, "bench/reg:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Printf("load average at start: %s\n", benchutil.LoadAverage(3))
	rows := map[string]bool{}
	for _, r := range strings.Split(*only, ",") {
		rows[strings.TrimSpace(r)] = true
	}
	if err := run(*corpus, *runs, *values, rows); err != nil {
		fmt.Fprintln(os.Stderr, "bench/reg:", err)
		os.Exit(1)
	}
	fmt.Printf("\nload average at end: %s\n", benchutil.LoadAverage(3))
}

func run(corpus string, runs, values int, rows map[string]bool) error {
	if corpus == "" {
		return fmt.Errorf("no corpus: set RESEAL_CORPUS or -corpus")
	}
	hivex, err := exec.LookPath("hivexregedit")
	if err != nil {
		return fmt.Errorf("hivexregedit not installed (Debian: libwin-hivex-perl)")
	}
	work, err := os.MkdirTemp("", "reseal-bench-reg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	reseal := filepath.Join(work, "reseal")
	build := exec.Command("go", "build", "-o", reseal, "./cmd/reseal")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		return fmt.Errorf("build reseal: %w", err)
	}

	regPath := filepath.Join(work, "bench.reg")
	if err := writeBenchReg(regPath, values); err != nil {
		return err
	}
	st, _ := os.Stat(regPath)
	fmt.Printf(".reg file: %d values in %d keys, %d bytes (UTF-8, LF, as hivexregedit wants it)\n", values, (values+99)/100, st.Size())

	// Two base hives: the real 11 MB SYSTEM of the corpus, and a new empty
	// hive saved by reseal.
	empty := filepath.Join(work, "empty.hive")
	if err := hive.New().SaveAs(empty); err != nil {
		return fmt.Errorf("create empty hive: %w", err)
	}
	bases := []struct{ name, path string }{
		{"corpus regipy/SYSTEM (11 MB)", filepath.Join(corpus, "hives", "regipy", "SYSTEM")},
		{"new empty hive", empty},
	}
	if !rows["import"] {
		bases = nil
	}
	for _, base := range bases {
		fmt.Printf("\nbase hive: %s\n", base.name)
		// The two tools alternate, so that both see the same load.
		times, err := timeAlternating(runs, work, base.path,
			func(h string) *exec.Cmd {
				return exec.Command(reseal, "reg", "import", h, regPath, "--prefix", prefix)
			},
			func(h string) *exec.Cmd {
				return exec.Command(hivex, "--merge", "--prefix", prefix, h, regPath)
			})
		if err != nil {
			return err
		}
		r, x := times[0], times[1]
		fmt.Printf("  %-22s %8s %8s\n", "median of "+fmt.Sprint(runs), "wall s", "CPU s")
		fmt.Printf("  %-22s %8.3f %8.3f\n", "reseal reg import", r.wall.Seconds(), r.cpu.Seconds())
		fmt.Printf("  %-22s %8.3f %8.3f\n", "hivexregedit --merge", x.wall.Seconds(), x.cpu.Seconds())
		fmt.Printf("  %-22s %8.2f %8.2f   (target <= 0.50)\n", "ratio reseal/hivex", r.wall.Seconds()/x.wall.Seconds(), r.cpu.Seconds()/x.cpu.Seconds())
		if err := sameResult(work, base.path, reseal, hivex, regPath); err != nil {
			return err
		}
	}

	if !rows["systemb"] {
		return nil
	}
	// Each run takes a fraction of a second and single runs spread widely
	// on a loaded machine: three times as many as for the imports.
	return benchSystemB(corpus, work, reseal, 3*runs)
}

// benchSystemB times open + recover + commit of the dirty SYSTEM_B (12 MB,
// 315 pages in SYSTEM_B.LOG1 and .LOG2) against hivexsh's open + commit of
// the same file (`hivexsh -w`, `commit`; hivex reads no logs, so it
// recovers nothing and writes the stale primary back). reseal is timed
// twice: as a process (`reseal reg recover -o`, which opens, recovers and
// writes the clean hive atomically, synced; like hivexsh it pays for
// starting up), and in process (hive.Open + Commit, the exact operation,
// which also empties the logs), its CPU time taken from getrusage.
func benchSystemB(corpus, work, reseal string, runs int) error {
	hivexsh, err := exec.LookPath("hivexsh")
	if err != nil {
		return fmt.Errorf("hivexsh not installed (Debian: libhivex-bin)")
	}
	src := filepath.Join(corpus, "hives", "regipy", "SYSTEM_B")
	// Each run gets fresh copies; the previous run's are removed first, so
	// that the benchmark does not pile up gigabytes of dirty page cache
	// that the next writer is made to flush.
	last := ""
	fresh := func() (string, error) {
		if last != "" {
			if err := os.RemoveAll(last); err != nil {
				return "", err
			}
		}
		dir, err := os.MkdirTemp(work, "sysb-")
		if err != nil {
			return "", err
		}
		last = dir
		for _, suffix := range []string{"", ".LOG1", ".LOG2"} {
			if err := copyFile(src+suffix, filepath.Join(dir, "SYSTEM_B"+suffix)); err != nil {
				return "", err
			}
		}
		return filepath.Join(dir, "SYSTEM_B"), nil
	}
	fmt.Printf("\nSYSTEM_B (dirty, 12 MB, logs LOG1+LOG2): open + recover + commit vs hivexsh -w open + commit\n")
	var walls, cpus [3][]time.Duration
	var rec hive.Recovery
	for i := 0; i < runs; i++ {
		// 0: reseal reg recover as a process.
		p, err := fresh()
		if err != nil {
			return err
		}
		w, c, err := timeProcess(exec.Command(reseal, "reg", "recover", p, "-o", p+".clean"))
		if err != nil {
			return err
		}
		walls[0], cpus[0] = append(walls[0], w), append(cpus[0], c)
		// 1: hive.Open + Commit in this process.
		if p, err = fresh(); err != nil {
			return err
		}
		runtime.GC()
		before := processCPU()
		start := time.Now()
		h, err := hive.Open(p, nil)
		if err != nil {
			return err
		}
		if err := h.Commit(); err != nil {
			return err
		}
		walls[1] = append(walls[1], time.Since(start))
		cpus[1] = append(cpus[1], processCPU()-before)
		rec = h.Recovery()
		h.Close()
		// 2: hivexsh -w, commit.
		if p, err = fresh(); err != nil {
			return err
		}
		cmd := exec.Command(hivexsh, "-w", p)
		cmd.Stdin = strings.NewReader("commit\n")
		if w, c, err = timeProcess(cmd); err != nil {
			return err
		}
		walls[2], cpus[2] = append(walls[2], w), append(cpus[2], c)
	}
	x := timing{median(walls[2]), median(cpus[2])}
	fmt.Printf("  %-34s %8s %8s %12s\n", "median of "+fmt.Sprint(runs), "wall s", "CPU s", "CPU ratio")
	for i, name := range []string{"reseal reg recover -o (process)", "hive.Open + Commit (in process)"} {
		r := timing{median(walls[i]), median(cpus[i])}
		fmt.Printf("  %-34s %8.3f %8.3f %8.2f   (wall ratio %.2f; target <= 0.50; CPU %s)\n", name, r.wall.Seconds(), r.cpu.Seconds(), r.cpu.Seconds()/x.cpu.Seconds(), r.wall.Seconds()/x.wall.Seconds(), spread(cpus[i]))
	}
	fmt.Printf("  %-34s %8.3f %8.3f            (CPU %s)\n", "hivexsh -w, commit (process)", x.wall.Seconds(), x.cpu.Seconds(), spread(cpus[2]))
	fmt.Printf("  (reseal applied %d dirty pages from %d logs)\n", rec.DirtyPages, len(rec.Logs))
	return nil
}

// timeProcess runs cmd and returns its wall-clock and CPU (user + system)
// time.
func timeProcess(cmd *exec.Cmd) (wall, cpu time.Duration, err error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("%s: %v: %s", filepath.Base(cmd.Path), err, out.String())
	}
	return time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// timing is the median wall-clock time of some runs, and the median CPU
// time (user + system) the process used. On a busy machine wall time
// includes waiting for a CPU; CPU time does not.
type timing struct{ wall, cpu time.Duration }

// timeAlternating runs each command (made by mk for a fresh copy of base)
// runs times, one after the other in turn.
func timeAlternating(runs int, work, base string, mk ...func(hivePath string) *exec.Cmd) ([]timing, error) {
	walls := make([][]time.Duration, len(mk))
	cpus := make([][]time.Duration, len(mk))
	for i := 0; i < runs; i++ {
		for j, m := range mk {
			copyPath := filepath.Join(work, "run.hive")
			if err := copyFile(base, copyPath); err != nil {
				return nil, err
			}
			cmd := m(copyPath)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			err := cmd.Run()
			elapsed := time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("%s: %v: %s", filepath.Base(cmd.Path), err, out.String())
			}
			walls[j] = append(walls[j], elapsed)
			cpus[j] = append(cpus[j], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
	}
	result := make([]timing, len(mk))
	for j := range mk {
		result[j] = timing{median(walls[j]), median(cpus[j])}
	}
	return result, nil
}

// sameResult imports with both tools once more and checks that the two
// hives now hold the same values under the benchmark's key.
func sameResult(work, base, reseal, hivex, regPath string) error {
	var exports [2][]byte
	for i, mk := range []func(string) *exec.Cmd{
		func(h string) *exec.Cmd { return exec.Command(reseal, "reg", "import", h, regPath, "--prefix", prefix) },
		func(h string) *exec.Cmd { return exec.Command(hivex, "--merge", "--prefix", prefix, h, regPath) },
	} {
		p := filepath.Join(work, fmt.Sprintf("check%d.hive", i))
		if err := copyFile(base, p); err != nil {
			return err
		}
		if out, err := mk(p).CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		h, err := hive.Open(p, &hive.OpenOptions{ReadOnly: true, NoLogs: true})
		if err != nil {
			return err
		}
		k, err := h.Root().OpenKey("ResealBench")
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := regfile.Export(context.Background(), &buf, k, &regfile.ExportOptions{Encoding: regfile.UTF8}); err != nil {
			return err
		}
		exports[i] = buf.Bytes()
		h.Close()
	}
	if bytes.Equal(exports[0], exports[1]) {
		fmt.Printf("  both hives hold the same %d-byte export of the imported keys\n", len(exports[0]))
		return nil
	}
	fmt.Printf("  WARNING: the two hives differ after import (reseal %d bytes, hivex %d bytes of export)\n", len(exports[0]), len(exports[1]))
	return nil
}

// writeBenchReg writes values values spread over keys of 100 values each,
// mixing the types regedit writes: strings, dwords, qwords, binary (some
// long enough to wrap), expandable and multi strings.
func writeBenchReg(path string, values int) error {
	var buf bytes.Buffer
	enc := regfile.NewEncoder(&buf, regfile.UTF8)
	// hivexregedit creates no intermediate keys: name the parent first.
	if err := enc.WriteKey(prefix + `\ResealBench`); err != nil {
		return err
	}
	for i := 0; i < values; i++ {
		if i%100 == 0 {
			if err := enc.WriteKey(fmt.Sprintf(`%s\ResealBench\Key%04d`, prefix, i/100)); err != nil {
				return err
			}
		}
		name := fmt.Sprintf("Value%05d", i)
		var err error
		switch i % 6 {
		case 0:
			err = enc.WriteValue(name, hive.TypeString, utf16z(fmt.Sprintf(`C:\Program Files\Vendor\App %d\bin`, i)))
		case 1:
			err = enc.WriteValue(name, hive.TypeDWord, binary.LittleEndian.AppendUint32(nil, uint32(i)))
		case 2:
			err = enc.WriteValue(name, hive.TypeQWord, binary.LittleEndian.AppendUint64(nil, uint64(i)<<33))
		case 3:
			b := make([]byte, 16+i%200)
			for j := range b {
				b[j] = byte(i + j)
			}
			err = enc.WriteValue(name, hive.TypeBinary, b)
		case 4:
			err = enc.WriteValue(name, hive.TypeExpandString, utf16z(fmt.Sprintf(`%%SystemRoot%%\System32\drivers\d%d.sys`, i)))
		case 5:
			err = enc.WriteValue(name, hive.TypeMultiString, append(utf16z(fmt.Sprintf("first %d", i)), utf16z("second")...))
		}
		if err != nil {
			return err
		}
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(strings.ReplaceAll(buf.String(), "\r\n", "\n")), 0o644)
}

func utf16z(s string) []byte {
	var b []byte
	for _, r := range s { // the benchmark's strings are ASCII
		b = append(b, byte(r), 0)
	}
	return append(b, 0, 0)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// spread is the lowest and highest of some times, in seconds.
func spread(ds []time.Duration) string {
	lo, hi := slices.Min(ds), slices.Max(ds)
	return fmt.Sprintf("%.3f-%.3f s", lo.Seconds(), hi.Seconds())
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
