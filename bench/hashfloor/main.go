// Command hashfloor measures, for docs/BENCHMARKS.md, two floors of the
// cache benchmarks on this machine, over every file in DIR (10,000 files of
// 10 KiB in the cache benchmarks), five times each, on one goroutine and on
// two:
//
//   - stat: one stat(2) per file, what a no-op run must do at least;
//   - hash: open, read, SHA-256 and close each file, what a run after
//     touching every input must do at least.
//
// Usage:
//
//	go run ./bench/hashfloor DIR
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

func hash(p string) {
	f, err := os.Open(p)
	if err != nil {
		panic(err)
	}
	h := sha256.New()
	io.Copy(h, f)
	f.Close()
	h.Sum(nil)
}

func stat(p string) {
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		panic(err)
	}
}

// timed runs f on every file, on one goroutine and on two.
func timed(files []string, f func(string)) (one, two time.Duration) {
	t := time.Now()
	for _, p := range files {
		f(p)
	}
	one = time.Since(t)
	t = time.Now()
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < len(files); i += 2 {
				f(files[i])
			}
		})
	}
	wg.Wait()
	return one, time.Since(t)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hashfloor DIR")
		os.Exit(2)
	}
	files, _ := filepath.Glob(filepath.Join(os.Args[1], "*"))
	for range 5 {
		s1, s2 := timed(files, stat)
		h1, h2 := timed(files, hash)
		fmt.Printf("%d files: stat %v (two goroutines %v); open+read+sha256 %v (two goroutines %v)\n",
			len(files), s1.Round(100*time.Microsecond), s2.Round(100*time.Microsecond), h1.Round(time.Millisecond), h2.Round(time.Millisecond))
	}
}
