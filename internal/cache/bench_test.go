package cache

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// benchFiles and benchSize are the shape of the benchmark tree: 1,000
// files of 100 KiB in ten directories.
const (
	benchFiles = 1000
	benchSize  = 100 << 10
)

// benchTree writes the benchmark tree at root, every file distinct.
func benchTree(b testing.TB, root string) {
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, benchSize)
	for i := range benchFiles {
		rng.Read(buf)
		p := filepath.Join(root, fmt.Sprintf("d%d", i%10), fmt.Sprintf("f%04d.o", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// timedFresh runs op(dir) b.N times, each with a new empty directory.
// Previous trees are left alone until the benchmark ends (deleting them
// between runs slows the next file creations on some filesystems, ext4
// with online discard among them), and a sync(2), so that each op starts
// with no dirty data whose writeback would throttle it, is not timed.
func timedFresh(b *testing.B, op func(dir string) error) {
	b.Helper()
	b.SetBytes(benchFiles * benchSize)
	for b.Loop() {
		b.StopTimer()
		dir := freshDir(b)
		b.StartTimer()
		if err := op(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// freshDir makes a new empty directory and syncs.
func freshDir(b *testing.B) string {
	b.Helper()
	dir, err := os.MkdirTemp(b.TempDir(), "work")
	if err != nil {
		b.Fatal(err)
	}
	syscall.Sync()
	return dir
}

// cpR copies the tree at src to dst with cp -r.
func cpR(src, dst string) error {
	if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("cp: %v: %s", err, out)
	}
	return nil
}

// restoreIn restores e into dir (its roots are relative).
func restoreIn(c *Cache, e *Entry, dir string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	if err := os.Chdir(dir); err != nil {
		return err
	}
	defer os.Chdir(wd)
	return c.Restore(e)
}

// BenchmarkRestore restores 1,000 files of 100 KiB into a fresh directory,
// and compares with cp -r of the same tree (the target: at most 1.5x).
// "over-existing" restores over the previous restore's tree.
func BenchmarkRestore(b *testing.B) {
	dir := b.TempDir()
	b.Chdir(dir)
	c, err := Open(filepath.Join(dir, "cache"))
	if err != nil {
		b.Fatal(err)
	}
	benchTree(b, "out")
	items, err := Snapshot([]string{"out"}, hashFile)
	if err != nil {
		b.Fatal(err)
	}
	k := key("bench")
	if err := c.Store(k, []string{"out"}, items, nil); err != nil {
		b.Fatal(err)
	}
	e, err := c.Lookup(k)
	if err != nil {
		b.Fatal(err)
	}
	src := filepath.Join(dir, "out")
	b.Run("cache", func(b *testing.B) {
		timedFresh(b, func(work string) error { return restoreIn(c, e, work) })
	})
	b.Run("cp-r", func(b *testing.B) {
		timedFresh(b, func(work string) error { return cpR(src, filepath.Join(work, "out")) })
	})
	// Timed back to back, alternating, so that the ratio holds however
	// busy the machine is.
	b.Run("paired", func(b *testing.B) {
		var tCache, tCp time.Duration
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			for j := range 2 {
				work := freshDir(b)
				t0 := time.Now()
				if (i+j)%2 == 0 {
					if err := cpR(src, filepath.Join(work, "out")); err != nil {
						b.Fatal(err)
					}
					tCp += time.Since(t0)
				} else {
					if err := restoreIn(c, e, work); err != nil {
						b.Fatal(err)
					}
					tCache += time.Since(t0)
				}
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(tCache.Milliseconds())/float64(b.N), "restore-ms/op")
		b.ReportMetric(float64(tCp.Milliseconds())/float64(b.N), "cp-ms/op")
		b.ReportMetric(float64(tCache)/float64(tCp), "restore/cp")
	})
	b.Run("over-existing", func(b *testing.B) {
		b.SetBytes(benchFiles * benchSize)
		for b.Loop() {
			b.StopTimer()
			syscall.Sync()
			b.StartTimer()
			if err := c.Restore(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStore stores 1,000 files of 100 KiB: "new" into an empty cache
// (every blob copied); "new-dirty-outputs" the same just after the
// outputs were written, as after a build (the syncfs writes them back
// too); "existing" when every blob is there already (the entry alone is
// written); "cp-r" copies the tree for comparison; "snapshot" is Snapshot
// with fingerprint.HashFile (no stat index).
func BenchmarkStore(b *testing.B) {
	dir := b.TempDir()
	b.Chdir(dir)
	benchTree(b, "out")
	items, err := Snapshot([]string{"out"}, hashFile)
	if err != nil {
		b.Fatal(err)
	}
	k := key("bench")
	// emptyCache opens a new cache (not Clear: deleting the previous
	// blobs would slow the next creations) with nothing dirty.
	emptyCache := func(b *testing.B) *Cache {
		c, err := Open(filepath.Join(b.TempDir(), "cache"))
		if err != nil {
			b.Fatal(err)
		}
		syscall.Sync()
		return c
	}
	for _, dirty := range []bool{false, true} {
		name := "new"
		if dirty {
			name = "new-dirty-outputs"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(benchFiles * benchSize)
			for b.Loop() {
				b.StopTimer()
				c := emptyCache(b)
				if dirty {
					rewrite(b, items)
				}
				b.StartTimer()
				if err := c.Store(k, []string{"out"}, items, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("existing", func(b *testing.B) {
		c := emptyCache(b)
		if err := c.Store(k, []string{"out"}, items, nil); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(benchFiles * benchSize)
		for b.Loop() {
			if err := c.Store(k, []string{"out"}, items, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cp-r", func(b *testing.B) {
		timedFresh(b, func(work string) error { return cpR("out", filepath.Join(work, "out")) })
	})
	b.Run("snapshot", func(b *testing.B) {
		b.SetBytes(benchFiles * benchSize)
		for b.Loop() {
			if _, err := Snapshot([]string{"out"}, hashFile); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// rewrite writes the files of items again with the same content, as a
// build would: their data is dirty in the page cache.
func rewrite(b *testing.B, items []Item) {
	b.Helper()
	for _, it := range items {
		if it.Kind != File {
			continue
		}
		data, err := os.ReadFile(it.Path)
		if err == nil {
			err = os.Remove(it.Path)
		}
		if err == nil {
			err = os.WriteFile(it.Path, data, it.Mode)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
