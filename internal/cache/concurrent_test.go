package cache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// helperEnv, set to a worker's arguments, makes the test binary a worker
// process of TestConcurrentProcesses instead of running the tests.
const helperEnv = "HAZLUA_CACHE_TEST_WORKER"

// helperMain runs one worker process: helperEnv holds "DIR ID N ROUNDS
// PRUNING", the current directory is the worker's own.
func helperMain() int {
	var dir string
	var id, n, rounds int
	var pruning bool
	if _, err := fmt.Sscan(os.Getenv(helperEnv), &dir, &id, &n, &rounds, &pruning); err != nil {
		fmt.Fprintln(os.Stderr, "worker arguments:", err)
		return 2
	}
	c, err := Open(dir)
	if err == nil {
		err = writeTree("shared/out", "shared")
	}
	if err == nil {
		err = worker(c, "own/out", "shared/out", true, id, n, rounds, pruning)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "worker %d: %v\n", id, err)
		return 1
	}
	return 0
}

// worker stores, looks up and restores for rounds, side by side with n-1
// others: its own key (content changing every round, outputs at own), the
// key every worker stores (outputs at shared, identical for all; restored
// when restoreShared is true, i.e. when shared is no other worker's
// directory), and looks up the next worker's key. Every Lookup must be a
// miss or a valid entry; every Restore must reproduce its entry exactly,
// or, only when another party prunes, fail with ErrCorrupt and leave the
// outputs as they were.
func worker(c *Cache, own, shared string, restoreShared bool, id, n, rounds int, pruning bool) error {
	ownKey, sharedKey := key("w"+strconv.Itoa(id)), key("shared")
	nextKey := key("w" + strconv.Itoa((id+1)%n))
	for r := range rounds {
		if err := writeTree(own, fmt.Sprintf("worker %d round %d", id, r)); err != nil {
			return err
		}
		for k, root := range map[fingerprint.Sum]string{ownKey: own, sharedKey: shared} {
			items, err := Snapshot([]string{root}, hashFile)
			if err == nil {
				err = c.Store(k, []string{root}, items, bytes.NewReader([]byte(root)))
			}
			if err != nil {
				return err
			}
		}
		if err := os.RemoveAll(own); err != nil {
			return err
		}
		if err := os.WriteFile(own, []byte("junk"), 0o644); err != nil {
			return err
		}
		for _, k := range []fingerprint.Sum{ownKey, sharedKey, nextKey} {
			e, err := c.Lookup(k)
			if err != nil {
				return fmt.Errorf("round %d: %w", r, err)
			}
			if e == nil {
				if k == ownKey && !pruning {
					return fmt.Errorf("round %d: own entry missing", r)
				}
				continue
			}
			if k == nextKey || k == sharedKey && !restoreShared {
				continue // another worker's outputs
			}
			if err := c.Restore(e); err != nil {
				if !pruning || !errors.Is(err, ErrCorrupt) {
					return fmt.Errorf("round %d: %w", r, err)
				}
				if k == ownKey {
					if data, err := os.ReadFile(own); err != nil || string(data) != "junk" {
						return fmt.Errorf("round %d: failed restore changed %s (%q, %v)", r, own, data, err)
					}
				}
				continue
			}
			if err := verifyRestored(e); err != nil {
				return fmt.Errorf("round %d: %w", r, err)
			}
		}
	}
	return nil
}

// writeTree replaces the tree at root by a few files, a directory and a
// symlink whose contents depend on content.
func writeTree(root, content string) error {
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, "sub", "empty"), 0o755); err != nil {
		return err
	}
	for i, name := range []string{"a", "sub/b", "sub/c"} {
		data := bytes.Repeat([]byte(content+"\n"), 1000*(i+1))
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			return err
		}
	}
	return os.Symlink("sub/b", filepath.Join(root, "link"))
}

// pruneUntil prunes c to a size that keeps one or two entries, over and over,
// until done is closed.
func pruneUntil(c *Cache, done <-chan struct{}) (pruned int, err error) {
	for {
		select {
		case <-done:
			return pruned, nil
		default:
		}
		res, err := c.Prune(300<<10, 0, time.Now())
		if err != nil {
			return pruned, err
		}
		pruned += res.Entries
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	for _, pruning := range []bool{false, true} {
		t.Run(fmt.Sprint("pruning=", pruning), func(t *testing.T) {
			c := openCache(t)
			base := t.TempDir()
			if err := writeTree(filepath.Join(base, "shared", "out"), "shared"); err != nil {
				t.Fatal(err)
			}
			const n, rounds = 4, 15
			done := make(chan struct{})
			var pruned int
			var pruneErr error
			var pw sync.WaitGroup
			if pruning {
				pw.Go(func() { pruned, pruneErr = pruneUntil(c, done) })
			}
			var wg sync.WaitGroup
			errs := make([]error, n)
			for id := range n {
				own := filepath.Join(base, "w"+strconv.Itoa(id), "out")
				wg.Go(func() { errs[id] = worker(c, own, filepath.Join(base, "shared", "out"), false, id, n, rounds, pruning) })
			}
			wg.Wait()
			close(done)
			pw.Wait()
			if err := errors.Join(append(errs, pruneErr)...); err != nil {
				t.Fatal(err)
			}
			if pruning && pruned == 0 {
				t.Error("Prune removed nothing: the test pruned nothing concurrently")
			}
			checkAllValid(t, c, n)
		})
	}
}

func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts processes")
	}
	for _, pruning := range []bool{false, true} {
		t.Run(fmt.Sprint("pruning=", pruning), func(t *testing.T) {
			c := openCache(t)
			const n, rounds = 3, 12
			cmds := make([]*exec.Cmd, n)
			outs := make([]bytes.Buffer, n)
			for id := range cmds {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d %d %v", helperEnv, c.Dir(), id, n, rounds, pruning))
				cmd.Dir = t.TempDir()
				cmd.Stdout, cmd.Stderr = &outs[id], &outs[id]
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				cmds[id] = cmd
			}
			done := make(chan struct{})
			var pruned int
			var pruneErr error
			var pw sync.WaitGroup
			if pruning {
				pw.Go(func() { pruned, pruneErr = pruneUntil(c, done) })
			}
			for id, cmd := range cmds {
				if err := cmd.Wait(); err != nil {
					t.Errorf("worker %d: %v\n%s", id, err, &outs[id])
				}
			}
			close(done)
			pw.Wait()
			if pruneErr != nil {
				t.Fatal(pruneErr)
			}
			if pruning && pruned == 0 {
				t.Error("Prune removed nothing: the test pruned nothing concurrently")
			}
			checkAllValid(t, c, n)
		})
	}
}

// checkAllValid checks that every worker's entry and the shared one are
// valid or missing, and the cache holds no temporary file.
func checkAllValid(t *testing.T, c *Cache, n int) {
	t.Helper()
	keys := []fingerprint.Sum{key("shared")}
	for id := range n {
		keys = append(keys, key("w"+strconv.Itoa(id)))
	}
	for _, k := range keys {
		if _, err := c.Lookup(k); err != nil {
			t.Error(err)
		}
	}
	if tmp := tmpFiles(t, c); len(tmp) != 0 {
		t.Errorf("temporary files left in the cache: %q", tmp)
	}
}
