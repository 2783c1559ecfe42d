package cache

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// bufSize is the size of the copy buffers: one read takes a typical
// output file whole.
const bufSize = 1 << 20

// bufPool holds copy buffers of bufSize.
var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// copyHashed copies src to dst (nil: nowhere) to the end of src and
// returns the hash of what it copied. Errors are those of src's Read and
// dst's Write (an *os.File's name the file).
func copyHashed(dst io.Writer, src io.Reader) (fingerprint.Sum, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	h := fingerprint.NewHasher()
	for {
		n, err := src.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			if dst != nil {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return fingerprint.Sum{}, werr
				}
			}
		}
		if err == io.EOF {
			return h.Sum(), nil
		}
		if err != nil {
			return fingerprint.Sum{}, err
		}
	}
}

// numWorkers is the size of the worker pool of one Snapshot, Store or
// Restore.
func numWorkers() int { return runtime.GOMAXPROCS(0) }

// parallel calls f(0), …, f(n-1) on up to numWorkers goroutines and
// returns the first error; after an error no further calls start.
func parallel(n int, f func(i int) error) error {
	workers := min(n, numWorkers())
	if workers <= 1 {
		for i := range n {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		mu       sync.Mutex
		next     int
		firstErr error
		wg       sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr != nil || next == n {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range workers {
		wg.Go(func() {
			for i, ok := take(); ok; i, ok = take() {
				if err := f(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// maxTempBase bounds the part of a file name kept in a temporary name, to
// stay under NAME_MAX with the prefix and suffix.
const maxTempBase = 200

// tempName returns a fresh hidden name ".BASE.haz-tmp-XXXXXX" next to
// dest (an OS path).
func tempName(dest string) string {
	dir, base := filepath.Split(dest)
	if len(base) > maxTempBase {
		base = base[:maxTempBase]
	}
	return filepath.Join(dir, "."+base+".haz-tmp-"+strconv.FormatUint(rand.Uint64()>>16, 36))
}

// retryExist calls create with fresh names until it does not fail with
// fs.ErrExist, and returns the name it created.
func retryExist(dest string, create func(name string) error) (string, error) {
	var err error
	for range 100 {
		name := tempName(dest)
		if err = create(name); !errors.Is(err, fs.ErrExist) {
			return name, err
		}
	}
	return "", err
}

// removeTree removes p and everything under it, making directories
// writable where their mode forbids removing their contents.
func removeTree(p string) error {
	err := os.RemoveAll(p)
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		return err
	}
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}
