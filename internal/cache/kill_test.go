package cache

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// killEnv, set to "CACHEDIR", makes the test binary the victim process of
// TestKill.
const killEnv = "HAZLUA_CACHE_TEST_VICTIM"

// killContents are the two trees the victim stores and restores in turn.
var killContents = [2]string{"tree A", "tree B"}

// killMain is the victim of TestKill: in src/ it writes tree A or B in
// turn and stores it, in dst/ it restores it, and prints a line after
// each round, until it is killed.
func killMain() int {
	c, err := Open(os.Getenv(killEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := 0; ; i++ {
		if err := killRound(c, killContents[i%2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(i)
	}
}

// killRound stores src/out, written with content, and restores it into
// dst/out.
func killRound(c *Cache, content string) error {
	if err := writeTree("src/out", content); err != nil {
		return err
	}
	if err := os.Chdir("src"); err != nil {
		return err
	}
	items, err := Snapshot([]string{"out"}, hashFile)
	if err == nil {
		err = c.Store(key("victim"), []string{"out"}, items, nil)
	}
	if err := os.Chdir(".."); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	e, err := c.Lookup(key("victim"))
	if err != nil || e == nil {
		return fmt.Errorf("lookup after store: %v, %v", e, err)
	}
	if err := os.Chdir("dst"); err != nil {
		return err
	}
	defer os.Chdir("..")
	return c.Restore(e)
}

// TestKill kills a process that stores and restores over and over, at
// several points: the cache must hold a whole entry or none (a clean miss,
// never a corrupt entry) and the restored output a whole tree, A or B.
func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts processes")
	}
	want := map[string]string{}
	for _, content := range killContents {
		dir := t.TempDir()
		if err := writeTree(filepath.Join(dir, "out"), content); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		want[describe(t, "out")] = content
	}
	for after := range 6 {
		t.Run(fmt.Sprintf("after %d rounds", after), func(t *testing.T) {
			c := openCache(t)
			work := inTempDir(t)
			mkdir(t, "src", 0o755)
			mkdir(t, "dst", 0o755)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), killEnv+"="+c.Dir())
			cmd.Dir = work
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(out)
			for range after {
				if !lines.Scan() {
					cmd.Wait()
					t.Fatal("victim ended early")
				}
			}
			cmd.Process.Kill()
			cmd.Wait()

			if _, err := os.Lstat("dst/out"); err == nil {
				t.Chdir("dst")
				if _, ok := want[describe(t, "out")]; !ok {
					t.Errorf("killed mid-restore, the output is no whole tree:\n%s", describe(t, "out"))
				}
			} else if after > 0 {
				t.Errorf("no output after %d restores: %v", after, err)
			}
			e, err := c.Lookup(key("victim"))
			if err != nil {
				t.Fatalf("killed mid-store, the cache holds a bad entry: %v", err)
			}
			if e == nil {
				if after > 0 {
					t.Errorf("no entry after %d stores", after)
				}
				return
			}
			inTempDir(t)
			if err := c.Restore(e); err != nil {
				t.Fatal(err)
			}
			if _, ok := want[describe(t, "out")]; !ok {
				t.Errorf("the entry left restores no whole tree:\n%s", describe(t, "out"))
			}
		})
	}
}
