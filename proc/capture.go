package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// spillSize is how much of a capture is kept in memory before the rest goes
// to an unlinked temporary file. Small outputs, by far the most common,
// never touch the disk; large ones cost their size once in memory, when
// Bytes assembles them, and never more.
const spillSize = 4 << 20

// readSize is the size of one read from a capture's pipe.
const readSize = 256 << 10

// Capture holds everything written to one stream of a child. One goroutine
// (the drain) appends to it; any number of goroutines may read it at the
// same time, while it grows (NewReader) or once it is complete (Bytes). The
// zero value is not usable; Captures are made by Start.
type Capture struct {
	mu      sync.Mutex
	grew    chan struct{} // closed and replaced whenever size grows or the capture ends
	doneCh  chan struct{} // closed when the stream has ended
	mem     []byte        // the bytes, while size <= spillSize
	file    *os.File      // the bytes, once spilled; unlinked
	size    int64
	done    bool
	err     error  // a failure to store (disk full); the stream was drained and dropped from here on
	whole   []byte // Bytes' result, once assembled
	tempDir string
}

func newCapture(tempDir string) *Capture {
	return &Capture{grew: make(chan struct{}), doneCh: make(chan struct{}), tempDir: tempDir}
}

// drain reads r to its end into c. It runs on its own goroutine and closes r.
// Every read is stored at once, so readers see lines as they come.
func (c *Capture) drain(r *os.File) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			buf = c.flush(buf[:n])
		}
		if err != nil {
			if err == io.EOF || errors.Is(err, os.ErrClosed) {
				err = nil
			}
			c.finish(err)
			return
		}
	}
}

// flush appends buf to the capture and returns the buffer to read into next.
func (c *Capture) flush(buf []byte) []byte {
	if len(buf) == 0 {
		return buf
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		if c.file == nil && c.size+int64(len(buf)) > spillSize {
			c.err = c.spill()
		}
		if c.err == nil && c.file != nil {
			if _, err := c.file.WriteAt(buf, c.size); err != nil {
				c.err = fmt.Errorf("proc: capture: %w", err)
			}
		} else if c.err == nil {
			c.mem = append(c.mem, buf...)
		}
		if c.err == nil {
			c.size += int64(len(buf))
			c.wake()
		}
	}
	// Reuse a small buffer while in memory; read in big chunks once spilled.
	if c.file != nil && cap(buf) < readSize {
		return make([]byte, readSize)
	}
	return buf[:cap(buf)]
}

// spill moves the in-memory bytes to a new unlinked temporary file.
// Called with c.mu held.
func (c *Capture) spill() error {
	dir := c.tempDir
	if dir == "" {
		dir = os.TempDir()
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("proc: capture: temporary file in %s: %w", dir, err)
	}
	f := os.NewFile(uintptr(fd), dir+"/(capture)")
	if _, err := f.Write(c.mem); err != nil {
		f.Close()
		return fmt.Errorf("proc: capture: %w", err)
	}
	c.file, c.mem = f, nil
	return nil
}

func (c *Capture) finish(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	c.done = true
	c.wake()
	close(c.doneCh)
}

// Done is closed when the stream has reached its end and every byte is
// stored.
func (c *Capture) Done() <-chan struct{} { return c.doneCh }

// Finished reports whether Done is closed.
func (c *Capture) Finished() bool {
	select {
	case <-c.doneCh:
		return true
	default:
		return false
	}
}

// wake tells waiting readers that something changed. Called with c.mu held.
func (c *Capture) wake() {
	close(c.grew)
	c.grew = make(chan struct{})
}

// Len returns the number of bytes captured so far.
func (c *Capture) Len() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// Err returns the error that stopped the capture from storing bytes, if
// any. It is final once the process is done.
func (c *Capture) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Bytes returns the whole capture. Call it only once the process is done
// (Group.Done is closed); the same slice is returned every time and must not
// be modified. Memory: the size of the output, once.
func (c *Capture) Bytes() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done {
		return nil, fmt.Errorf("proc: capture read before the process ended")
	}
	if c.whole != nil || c.err != nil {
		return c.whole, c.err
	}
	if c.file == nil {
		c.whole = c.mem
		if c.whole == nil {
			c.whole = []byte{}
		}
		return c.whole, nil
	}
	whole := make([]byte, c.size)
	if _, err := c.file.ReadAt(whole, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("proc: capture: %w", err)
	}
	c.file.Close()
	c.file = nil
	c.whole = whole
	return whole, nil
}

// NewReader returns a reader of the capture from its first byte that
// follows it as it grows: a Read waits for more bytes until the process's
// stream ends. Reads made with ReadContext return early when ctx is done.
func (c *Capture) NewReader() *CaptureReader { return &CaptureReader{c: c} }

// CaptureReader reads a Capture as it grows. It is for one goroutine at a
// time.
type CaptureReader struct {
	c   *Capture
	off int64
}

// Read reads the next bytes, waiting for them if need be.
func (r *CaptureReader) Read(p []byte) (int, error) {
	return r.ReadContext(context.Background(), p)
}

// ReadContext is Read that gives up with ctx.Err() when ctx is done.
func (r *CaptureReader) ReadContext(ctx context.Context, p []byte) (int, error) {
	c := r.c
	for {
		c.mu.Lock()
		if r.off < c.size {
			var n int
			var err error
			switch {
			case c.whole != nil:
				n = copy(p, c.whole[r.off:])
			case c.file != nil:
				end := min(c.size, r.off+int64(len(p)))
				n, err = c.file.ReadAt(p[:end-r.off], r.off)
			default:
				n = copy(p, c.mem[r.off:])
			}
			c.mu.Unlock()
			r.off += int64(n)
			if err == io.EOF {
				err = nil
			}
			return n, err
		}
		if c.done {
			err := c.err
			c.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		grew := c.grew
		c.mu.Unlock()
		select {
		case <-grew:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
