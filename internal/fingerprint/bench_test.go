package fingerprint

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkHashBytes measures SHA-256 throughput (docs/BENCHMARKS.md,
// "Hashing (issue 8)").
func BenchmarkHashBytes(b *testing.B) {
	for _, n := range []int{10 << 10, 100 << 10, 1 << 20, 64 << 20} {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				HashBytes(buf)
			}
		})
	}
}

// files writes n files of 10 KiB, an hour old, and returns their paths.
func files(b *testing.B, n int) []string {
	dir := b.TempDir()
	buf := make([]byte, 10<<10)
	paths := make([]string, n)
	for i := range paths {
		buf[0], buf[1] = byte(i), byte(i>>8)
		paths[i] = filepath.Join(dir, fmt.Sprintf("f%05d", i))
		if err := os.WriteFile(paths[i], buf, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Chtimes(paths[i], old, old); err != nil {
			b.Fatal(err)
		}
	}
	return paths
}

// BenchmarkFiles compares, per file of 10,000 files of 10 KiB in the page
// cache, HashFile (open, read, hash) with Lookup in an index that knows
// them (a stat), and LoadIndex of an index of them (per entry).
func BenchmarkFiles(b *testing.B) {
	paths := files(b, 10000)
	perFile := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(paths)), "ns/file")
	}
	b.Run("HashFile", func(b *testing.B) {
		for b.Loop() {
			for _, p := range paths {
				if _, err := HashFile(p); err != nil {
					b.Fatal(err)
				}
			}
		}
		perFile(b)
	})
	b.Run("LookupUnchanged", func(b *testing.B) {
		ix, _ := LoadIndex(b.TempDir())
		for _, p := range paths {
			ix.Lookup(p)
		}
		for b.Loop() {
			for _, p := range paths {
				if _, err := ix.Lookup(p); err != nil {
					b.Fatal(err)
				}
			}
		}
		perFile(b)
		if s := ix.Stats(); s.Hashed != len(paths) {
			b.Fatalf("unchanged files rehashed: %+v", s)
		}
	})
	b.Run("LoadIndex", func(b *testing.B) {
		dir := b.TempDir()
		ix, _ := LoadIndex(dir)
		for _, p := range paths {
			ix.Lookup(p)
		}
		if err := ix.Save(); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := LoadIndex(dir); err != nil {
				b.Fatal(err)
			}
		}
		perFile(b)
	})
}
