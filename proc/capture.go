package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// spillSize is how much of a capture is kept in memory before the rest goes
// to an unlinked temporary file. Small outputs, by far the most common,
// never touch the disk; large ones cost their size once in memory, when
// Bytes assembles them, and never more.
const spillSize = 4 << 20

// readSize is the size of one read from a capture's pipe once spilled,
// when the pipe cannot be spliced to the file.
const readSize = 256 << 10

// memStart is the first in-memory buffer of a capture. Reads go straight
// into the buffer's free space, and it doubles as the output grows, up to
// spillSize, so a small output costs one small allocation and one copy
// (from the pipe).
const memStart = 8 << 10

// spliceSize is the most one splice moves from a spilled capture's pipe
// to its file, and spillPipeSize the size its pipe is given once spilled:
// a large output then goes from the pipe to the file in the kernel, in
// few and large steps, without passing through hazlua's memory.
const (
	spliceSize    = 1 << 20
	spillPipeSize = 1 << 20
)

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
//
// Up to spillSize, the pipe is read straight into the in-memory buffer
// (no copy but the kernel's). Past it, the capture spills to its file and
// the pipe is spliced into the file: the bytes are copied once, by the
// kernel, from the pipe to the page cache, and Bytes reads them back once.
func (c *Capture) drain(r *os.File) {
	defer r.Close()
	err := c.drainMem(r)
	if err == nil {
		err = c.drainSpilled(r)
	}
	if err == io.EOF || errors.Is(err, os.ErrClosed) {
		err = nil
	}
	c.finish(err)
}

// drainMem reads r into c.mem until r ends (it returns the error that
// ended it, io.EOF at the end) or c.mem holds spillSize bytes (it returns
// nil). Readers only look at c.mem[:c.size] under c.mu, so the read into
// the free space past c.size needs no lock; the buffer is replaced (grown)
// under it.
func (c *Capture) drainMem(r *os.File) error {
	buf := make([]byte, 0, memStart)
	c.mu.Lock()
	c.mem = buf
	c.mu.Unlock()
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= spillSize {
				return nil
			}
			grown := make([]byte, len(buf), min(2*cap(buf), spillSize))
			copy(grown, buf)
			buf = grown
			c.mu.Lock()
			c.mem = buf
			c.mu.Unlock()
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			buf = buf[:len(buf)+n]
			c.mu.Lock()
			c.mem = buf
			c.size += int64(n)
			c.wake()
			c.mu.Unlock()
		}
		if err != nil {
			return err
		}
	}
}

// drainSpilled goes on with r once c.mem is full. Exactly spillSize bytes
// stay in memory: one read learns whether more comes before anything
// spills. Then the pipe is spliced to the file, or read and written when
// it cannot be (not a pipe, or a file system without splice). It returns
// the error that ended r (io.EOF at the end).
func (c *Capture) drainSpilled(r *os.File) error {
	buf := make([]byte, readSize)
	n, err := r.Read(buf)
	if n > 0 {
		buf = c.flush(buf[:n]) // spills
	}
	if err != nil {
		return err
	}
	rc, err := r.SyscallConn()
	if err != nil || c.Err() != nil {
		return c.drainRead(r, buf)
	}
	// A larger pipe lets the child write ahead while the file takes the
	// bytes; failing that (a per-user limit), the pipe keeps its size.
	_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, spillPipeSize) })
	c.mu.Lock()
	out := int(c.file.Fd()) // a regular file: Fd leaves it as it is
	c.mu.Unlock()
	for {
		var moved int64
		var serr error
		err := rc.Read(func(fd uintptr) bool {
			off := c.size // only this goroutine changes size
			moved, serr = unix.Splice(int(fd), nil, out, &off, spliceSize, unix.SPLICE_F_NONBLOCK|unix.SPLICE_F_MOVE)
			return serr != unix.EAGAIN
		})
		if err != nil {
			// Only a Close (by the group, see waitIO) fails a raw
			// read: the end, as for r.Read's os.ErrClosed.
			return os.ErrClosed
		}
		switch {
		case serr == unix.EINVAL || serr == unix.ENOSYS:
			return c.drainRead(r, buf)
		case serr != nil:
			// Storing failed (disk full): keep the error, drain the
			// rest so the child never blocks.
			c.mu.Lock()
			c.err = fmt.Errorf("proc: capture: %w", serr)
			c.mu.Unlock()
			return c.drainRead(r, buf)
		case moved == 0:
			return io.EOF
		}
		c.mu.Lock()
		c.size += moved
		c.wake()
		c.mu.Unlock()
	}
}

// drainRead reads r to its end with buf, storing each read (flush), and
// returns the error that ended it.
func (c *Capture) drainRead(r *os.File, buf []byte) error {
	for {
		n, err := r.Read(buf)
		if n > 0 {
			buf = c.flush(buf[:n])
		}
		if err != nil {
			return err
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
	if c.file == nil && cap(c.mem)-len(c.mem) > 4<<10 && len(c.mem) <= 64<<10 {
		// A small output in a larger buffer: keep only its bytes (a
		// quiet stderr keeps nothing).
		c.mem = append([]byte(nil), c.mem...)
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
	if err := readAtParallel(c.file, whole); err != nil {
		return nil, fmt.Errorf("proc: capture: %w", err)
	}
	// Closing frees the file's pages (it has no name): off the caller's
	// path, nobody can see the difference.
	go c.file.Close()
	c.file = nil
	c.whole = whole
	return whole, nil
}

// parallelReadMin is the least a goroutine of readAtParallel reads.
const parallelReadMin = 8 << 20

// readAtParallel fills b from the start of f, in up to GOMAXPROCS pieces
// read at the same time: most of the cost of a large read into fresh
// memory is faulting its pages in, which then runs on every CPU.
func readAtParallel(f *os.File, b []byte) error {
	parts := min(runtime.GOMAXPROCS(0), len(b)/parallelReadMin)
	if parts <= 1 {
		_, err := f.ReadAt(b, 0)
		if err == io.EOF {
			err = nil
		}
		return err
	}
	errs := make([]error, parts)
	var wg sync.WaitGroup
	size := (len(b) + parts - 1) / parts
	for i := range parts {
		lo := i * size
		hi := min(lo+size, len(b))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.ReadAt(b[lo:hi], int64(lo)); err != nil && err != io.EOF {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
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
