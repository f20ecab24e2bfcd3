package sysprep

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/reseal/reseal/hive"
)

// logicalHash is treeHash with registry hives hashed by content (keys,
// values) rather than bytes: a hive written twice with the same content
// differs in its timestamps only.
func logicalHash(t testing.TB, root string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	}))
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		st, err := os.Lstat(p)
		must(t, err)
		io.WriteString(h, rel+"\x00"+st.Mode().Type().String()+"\x00")
		if !st.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(p)
		must(t, err)
		if bytes.HasPrefix(data, []byte("regf")) {
			hv, err := hive.Open(p, &hive.OpenOptions{ReadOnly: true})
			must(t, err)
			hashKey(t, h, hv.Root(), 0)
			hv.Close()
			continue
		}
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashKey(t testing.TB, w io.Writer, k *hive.Key, depth int) {
	fmt.Fprintf(w, "K%d:%s\x00", depth, k.Name())
	vals, err := k.Values()
	must(t, err)
	sort.Slice(vals, func(i, j int) bool { return strings.ToUpper(vals[i].Name) < strings.ToUpper(vals[j].Name) })
	for _, v := range vals {
		fmt.Fprintf(w, "V:%s:%d:%x\x00", v.Name, v.Type, v.Data)
	}
	subs, err := k.SubKeys()
	must(t, err)
	for _, s := range subs {
		hashKey(t, w, s, depth+1)
	}
}

// copyTree copies a volume so that each crash starts from the same bytes.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	must(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	}))
}

// TestCrashAtEveryPoint stops the commit at every durable step (as a kill
// would: nothing after that point runs) and, for some, stops the recovery
// too; after the next recovery the volume is either byte-for-byte unchanged
// or exactly as an uninterrupted run leaves it.
func TestCrashAtEveryPoint(t *testing.T) {
	golden := writeSample(t, "10")
	original := treeHash(t, golden)
	ref := t.TempDir()
	copyTree(t, golden, ref)
	if _, err := Generalize(context.Background(), ref, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	generalized := logicalHash(t, ref)

	rolledBack, rolledForward := 0, 0
	points := 0
	for at := 1; ; at++ {
		vol := filepath.Join(t.TempDir(), "vol")
		copyTree(t, golden, vol)
		_, err := Generalize(context.Background(), vol, Options{Now: fixedNow, crashAt: at})
		if err == nil {
			points = at - 1
			break
		}
		if !errors.Is(err, errCrash) {
			t.Fatalf("crash point %d: %v", at, err)
		}
		if at%4 == 0 {
			// Interrupt the recovery as well, at its first or second step.
			if _, err := recoverJournal(vol, &crashPoints{at: 1 + at%8/4}); err != nil && !errors.Is(err, errCrash) {
				t.Fatalf("crash point %d: interrupted recovery: %v", at, err)
			}
		}
		msg, err := RecoverJournal(vol)
		if err != nil {
			t.Fatalf("crash point %d: recovery: %v", at, err)
		}
		if _, err := os.Stat(filepath.Join(vol, journalDir)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("crash point %d: journal left after recovery (%s)", at, msg)
		}
		switch {
		case treeHash(t, vol) == original:
			rolledBack++
		case logicalHash(t, vol) == generalized:
			rolledForward++
		default:
			t.Fatalf("crash point %d: volume neither unchanged nor generalized after recovery (%q)", at, msg)
		}
		if at > 10000 {
			t.Fatal("the commit never finished")
		}
	}
	t.Logf("%d crash points: %d rolled back, %d rolled forward", points, rolledBack, rolledForward)
	if points < 50 {
		t.Errorf("only %d crash points; the test promises at least 50", points)
	}
	if rolledBack == 0 || rolledForward == 0 {
		t.Errorf("expected both outcomes, got %d back and %d forward", rolledBack, rolledForward)
	}
}

// TestKilledProcess runs Generalize in a child process and SIGKILLs it
// after a random delay; the next invocation (here, RecoverJournal) leaves
// the volume unchanged or generalized.
func TestKilledProcess(t *testing.T) {
	if os.Getenv("RESEAL_CRASH_CHILD") != "" {
		_, err := Generalize(context.Background(), os.Getenv("RESEAL_CRASH_CHILD"), Options{Now: fixedNow})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	golden := writeSample(t, "10")
	original := treeHash(t, golden)
	ref := t.TempDir()
	copyTree(t, golden, ref)
	start := time.Now()
	if _, err := Generalize(context.Background(), ref, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	generalized := logicalHash(t, ref)
	rng := rand.New(rand.NewPCG(1, 2))
	outcomes := map[string]int{}
	for i := 0; i < 12; i++ {
		vol := filepath.Join(t.TempDir(), "vol")
		copyTree(t, golden, vol)
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledProcess$")
		cmd.Env = append(os.Environ(), "RESEAL_CRASH_CHILD="+vol)
		must(t, cmd.Start())
		// The child spends most of its time starting up and planning;
		// spread the kills over the whole run.
		time.Sleep(time.Duration(rng.Int64N(int64(3*took + 200*time.Millisecond))))
		cmd.Process.Kill()
		cmd.Wait()
		if _, err := os.Stat(filepath.Join(vol, LockFile)); err == nil {
			outcomes["stale lock taken over"]++
		}
		msg, err := RecoverJournal(vol)
		if err != nil {
			t.Fatalf("kill %d: recovery: %v", i, err)
		}
		if _, err := os.Stat(filepath.Join(vol, LockFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("kill %d: lock left after recovery: %v", i, err)
		}
		switch {
		case treeHash(t, vol) == original:
			outcomes["unchanged"]++
		case logicalHash(t, vol) == generalized:
			outcomes["generalized"]++
		default:
			t.Fatalf("kill %d: volume neither unchanged nor generalized (%q)", i, msg)
		}
		if msg != "" {
			outcomes["recovered: "+strings.SplitN(msg, ":", 2)[0]]++
		}
	}
	t.Logf("outcomes: %v", outcomes)
}

// systemContent is the SYSTEM hive's content as the next reader of the
// volume would see it: opened with its logs, as Windows and hive.Open do.
func systemContent(t testing.TB, root string) string {
	t.Helper()
	h, err := hive.Open(filepath.Join(root, "Windows", "System32", "config", "SYSTEM"), &hive.OpenOptions{ReadOnly: true})
	must(t, err)
	defer h.Close()
	sum := sha256.New()
	hashKey(t, sum, h.Root(), 0)
	return hex.EncodeToString(sum.Sum(nil))
}

// TestCrashWithDirtyCorpusHive interrupts generalize on the target built
// from the dirty SYSTEM_B and its logs. Right after each interruption, before
// any recovery, whoever opens SYSTEM (replaying logs as Windows would) sees
// either the old recovered content or the new one, never old logs replayed
// over the new hive; after recovery the volume is unchanged or generalized.
func TestCrashWithDirtyCorpusHive(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: many generalize runs on a 12 MB hive")
	}
	golden := corpusTarget(t)
	accept := map[string]bool{"pending-servicing": true}
	original := treeHash(t, golden)
	oldSystem := systemContent(t, golden)
	ref := t.TempDir()
	copyTree(t, golden, ref)
	if _, err := Generalize(context.Background(), ref, Options{Now: fixedNow, accept: accept}); err != nil {
		t.Fatal(err)
	}
	newSystem := systemContent(t, ref)
	generalized := logicalHash(t, ref)

	outcomes := map[string]int{}
	// crash runs one interrupted generalize; it reports false once the
	// commit has fewer durable steps than at.
	crash := func(at int) bool {
		vol := filepath.Join(t.TempDir(), "vol")
		copyTree(t, golden, vol)
		_, err := Generalize(context.Background(), vol, Options{Now: fixedNow, accept: accept, crashAt: at})
		if err == nil {
			return false
		}
		if !errors.Is(err, errCrash) {
			t.Fatalf("crash point %d: %v", at, err)
		}
		switch systemContent(t, vol) {
		case oldSystem:
			outcomes["SYSTEM old before recovery"]++
		case newSystem:
			outcomes["SYSTEM new before recovery"]++
		default:
			t.Fatalf("crash point %d: SYSTEM read with its logs is neither the old nor the new hive", at)
		}
		if _, err := RecoverJournal(vol); err != nil {
			t.Fatalf("crash point %d: %v", at, err)
		}
		switch {
		case treeHash(t, vol) == original:
			outcomes["rolled back"]++
		case logicalHash(t, vol) == generalized:
			outcomes["rolled forward"]++
		default:
			t.Fatalf("crash point %d: neither unchanged nor generalized after recovery", at)
		}
		return true
	}
	// Every fifth point, then every point of the last stretch, where the
	// hives replace their primaries and then empty their logs.
	const stride = 5
	end := 1
	for ; crash(end); end += stride {
	}
	for at := max(1, end-16); at < end; at++ {
		if (at-1)%stride != 0 {
			crash(at)
		}
	}
	t.Logf("every %dth crash point and the last 16: %v", stride, outcomes)
	if outcomes["SYSTEM new before recovery"] == 0 || outcomes["rolled back"] == 0 {
		t.Errorf("the stride missed an outcome: %v", outcomes)
	}
}
