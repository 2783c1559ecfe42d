// Command hashfloor measures, for docs/BENCHMARKS.md, the floor of
// rehashing touched inputs: open, read and SHA-256 every file in DIR (10,000
// files of 10 KiB in the cache-touched benchmark), on one goroutine and on
// two, five times:
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

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hashfloor DIR")
		os.Exit(2)
	}
	files, _ := filepath.Glob(os.Args[1] + "/*")
	for r := 0; r < 5; r++ {
		t := time.Now()
		for _, f := range files {
			hash(f)
		}
		d1 := time.Since(t)
		t = time.Now()
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < len(files); i += 2 {
					hash(files[i])
				}
			}(w)
		}
		wg.Wait()
		fmt.Printf("%d files: one goroutine %v, two %v\n", len(files), d1.Round(time.Millisecond), time.Since(t).Round(time.Millisecond))
	}
}
