package proc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The GNU make jobserver (docs/design.md, "The jobserver").
//
// hazlua is a jobserver server: a child that asks for it (Spec.Jobserver)
// gets MAKEFLAGS with -jN and --jobserver-auth, so a make, ninja or cargo
// it runs shares hazlua's job slots instead of running N jobs of its own
// on top of them. The pool is one FIFO in a private temporary directory:
// it holds one byte (token) for each free slot that no client took.
//
//   - A client's own process holds its job slot: that is the "implicit
//     token" every jobserver client has. For each job beyond it, the
//     client reads a token from the FIFO, and writes it back when that job
//     ends.
//   - hazlua's own Acquire reads a token from the FIFO too (then takes a
//     free slot number, which exists, since tokens never outnumber free
//     slots), and its Release writes one back. So hazlua's jobs and the
//     clients' jobs are one pool of N.
//   - A client that dies holding tokens (SIGKILL, a crash) never writes
//     them back. Reads from a shared FIFO are anonymous, so which client
//     took a token cannot be known; but once no client is alive (every
//     client's process group is empty), the FIFO must hold exactly one
//     token per free slot, and the difference is written back (or read
//     out, for a client that wrote back more than it took).

// JobserverMode says whether, and in which form, a process is a client of
// hazlua's GNU make jobserver. The zero value is JobserverOff.
type JobserverMode int

const (
	// JobserverOff: no jobserver; MAKEFLAGS is left as it is.
	JobserverOff JobserverMode = iota
	// JobserverPipe: MAKEFLAGS gains " -jN --jobserver-auth=3,4" and the
	// child gets the pool's read and write ends as fds 3 and 4: the
	// form every GNU make since 4.2 reads (make 4.4 too), and cargo.
	JobserverPipe
	// JobserverFifo: MAKEFLAGS gains " -jN --jobserver-auth=fifo:PATH"
	// and no fd: the form of make 4.4 and ninja 1.13, which open PATH.
	JobserverFifo
)

// The descriptors a JobserverPipe child gets the pool's ends on.
const (
	jobserverReadFD  = 3
	jobserverWriteFD = 4
)

// jobserver is the pool's FIFO, made by Slots.enableJobserver. Its fields
// other than the files are guarded by Slots.mu.
type jobserver struct {
	s       *Slots
	dir     string   // the private directory that holds the FIFO
	path    string   // the FIFO
	f       *os.File // hazlua's end: O_RDWR, non-blocking, in the poller
	fd      int      // f's descriptor, for reads and writes under Slots.mu
	childR  *os.File // a blocking read end, fd 3 of JobserverPipe children
	childW  *os.File // a blocking write end, fd 4
	kick    chan struct{}
	closed  bool
	clients int // process groups started as clients, not yet ended
	dropped int // tokens read that no free slot stood for
	lost    int // tokens written back once no client was alive
}

// JobserverFlags returns the words MAKEFLAGS gains for a client in mode:
// "-j4 --jobserver-auth=3,4" or "-j4 --jobserver-auth=fifo:PATH". It
// makes the jobserver on the first call. It returns "" and no error with
// no cap on jobs (nothing to share: make keeps its own -j), or for
// JobserverOff; an error when the FIFO cannot be made, after which no
// process gets a jobserver.
func (m *Manager) JobserverFlags(mode JobserverMode) (string, error) {
	if mode == JobserverOff || m.slots.n == 0 {
		return "", nil
	}
	js, err := m.slots.enableJobserver(m.cfg.TempDir)
	if js == nil {
		return "", err
	}
	return js.flags(mode), nil
}

func (js *jobserver) flags(mode JobserverMode) string {
	auth := strconv.Itoa(jobserverReadFD) + "," + strconv.Itoa(jobserverWriteFD)
	if mode == JobserverFifo {
		auth = "fifo:" + js.path
	}
	return "-j" + strconv.Itoa(js.s.n) + " --jobserver-auth=" + auth
}

// enableJobserver makes the pool's FIFO and moves the free slots into it,
// once; it returns nil and the error if that failed (then or before).
func (s *Slots) enableJobserver(tempDir string) (*jobserver, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.js != nil {
		return s.js, nil
	}
	if s.jsErr != nil {
		return nil, s.jsErr
	}
	js, err := newJobserver(s, tempDir)
	if err != nil {
		s.jsErr = fmt.Errorf("proc: jobserver: %w", err)
		return nil, s.jsErr
	}
	s.js = js
	js.writeTokens(len(s.free))
	go js.dispatch()
	if len(s.waiters) > 0 {
		js.kickDispatcher()
	}
	return js, nil
}

func newJobserver(s *Slots, tempDir string) (_ *jobserver, err error) {
	if tempDir == "" {
		tempDir = os.TempDir()
	}
	dir, err := os.MkdirTemp(tempDir, "hazlua-jobserver-")
	if err != nil {
		return nil, err
	}
	js := &jobserver{s: s, dir: dir, path: filepath.Join(dir, "fifo"), kick: make(chan struct{}, 1), fd: -1}
	defer func() {
		if err != nil {
			js.closeFiles()
			os.RemoveAll(dir)
		}
	}()
	if err := unix.Mkfifo(js.path, 0o600); err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: js.path, Err: err}
	}
	// O_RDWR: the open never waits for a peer, and the FIFO always has
	// a reader and a writer, so a client's write never fails with EPIPE.
	fd, err := unix.Open(js.path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: js.path, Err: err}
	}
	js.fd = fd
	js.f = os.NewFile(uintptr(fd), js.path) // non-blocking: in the poller
	if capacity, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil && capacity < s.n {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, s.n); err != nil {
			return nil, fmt.Errorf("-j %d is more tokens than a FIFO holds (%d): %w", s.n, capacity, err)
		}
	}
	// The children's ends are blocking, as the ends of the pipe make
	// itself makes: clients written for a blocking read get one.
	r, err := unix.Open(js.path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: js.path, Err: err}
	}
	if err := unix.SetNonblock(r, false); err != nil {
		unix.Close(r)
		return nil, err
	}
	js.childR = os.NewFile(uintptr(r), js.path) // blocking: not in the poller
	w, err := unix.Open(js.path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: js.path, Err: err}
	}
	js.childW = os.NewFile(uintptr(w), js.path)
	return js, nil
}

// readToken reads one token from the FIFO without waiting, and reports
// whether there was one. Called with Slots.mu held.
func (js *jobserver) readToken() bool {
	var b [1]byte
	for {
		n, err := unix.Read(js.fd, b[:])
		if err == unix.EINTR {
			continue
		}
		return n == 1 && err == nil
	}
}

// writeTokens writes n tokens to the FIFO. Called with Slots.mu held.
// The FIFO holds at least the cap, and never more tokens than free slots
// are in it, so the write does not wait.
func (js *jobserver) writeTokens(n int) {
	if n <= 0 || js.closed {
		return
	}
	buf := []byte(strings.Repeat("+", n))
	for len(buf) > 0 {
		k, err := unix.Write(js.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return // EAGAIN: a client wrote back more than it took; the extra is dropped when read
		}
		buf = buf[k:]
	}
}

// kickDispatcher wakes the dispatcher: an Acquire waits. Called with
// Slots.mu held.
func (js *jobserver) kickDispatcher() {
	select {
	case js.kick <- struct{}{}:
	default:
	}
}

// dispatch serves waiting Acquire calls from the FIFO: while some wait,
// it parks in the poller until a token arrives (a client wrote one back),
// then takes it for the first waiter. It never reads while nobody waits,
// so it takes no token from a client. It ends when the jobserver is
// closed.
func (js *jobserver) dispatch() {
	rc, err := js.f.SyscallConn()
	if err != nil {
		return
	}
	s := js.s
	for range js.kick {
		err := rc.Read(func(uintptr) bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			for len(s.waiters) > 0 && !js.closed {
				n, ok := s.takeLocked()
				if !ok {
					return false // wait until the FIFO is readable
				}
				w := s.waiters[0]
				s.waiters = s.waiters[1:]
				w.ch <- n
			}
			return true
		})
		if err != nil {
			return // closed
		}
	}
}

// clientStart counts a process group that gets the jobserver, before it
// is forked, and returns the jobserver, or nil when there is none.
func (s *Slots) clientStart() *jobserver {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.js == nil || s.js.closed {
		return nil
	}
	s.js.clients++
	return s.js
}

// clientEnd is called when a client's process group is empty (or its
// start failed). When it was the last client alive, the FIFO must hold
// one token per free slot: tokens that dead clients took with them are
// written back, and extra ones read out.
func (js *jobserver) clientEnd() {
	s := js.s
	s.mu.Lock()
	js.clients--
	last := js.clients == 0
	if last && js.closed {
		// Closed while this client started: its ends are released now,
		// not under the mutex (see release).
		s.mu.Unlock()
		js.release()
		return
	}
	if last {
		js.restoreLocked()
	}
	s.mu.Unlock()
}

// restoreLocked makes the FIFO hold one token per free slot, once no
// client is alive: tokens that dead clients took with them are written
// back, and extra ones read out. Called with Slots.mu held.
func (js *jobserver) restoreLocked() {
	s := js.s
	held, err := unix.IoctlGetInt(js.fd, unix.TIOCINQ) // FIONREAD
	if err != nil {
		return
	}
	switch want := len(s.free); {
	case held < want:
		js.lost += want - held
		js.writeTokens(want - held)
		// A waiter is served by the dispatcher, woken by the write.
	case held > want:
		for range held - want {
			if !js.readToken() {
				break
			}
			js.dropped++
		}
	}
}

// closeJobserver removes the FIFO and closes its ends; the free slots
// stay (hazlua's own Acquire goes on without it). Called by
// Manager.Shutdown, once every group has ended.
func (s *Slots) closeJobserver() {
	if s == nil {
		return
	}
	s.mu.Lock()
	js := s.js
	if js == nil || js.closed {
		s.mu.Unlock()
		return
	}
	js.closed = true
	s.js = nil
	s.jsErr = errors.New("proc: jobserver: the run has ended") // no new FIFO after the shutdown
	// Waiters were served from the FIFO: now from the free list.
	for len(s.waiters) > 0 && len(s.free) > 0 {
		w := s.waiters[0]
		s.waiters = s.waiters[1:]
		w.ch <- s.popFree()
	}
	close(js.kick)
	idle := js.clients == 0
	s.mu.Unlock()
	if idle {
		// Else a Start that raced with the close still forks with the
		// children's ends: its clientEnd releases them.
		js.release()
	}
}

// release closes the FIFO's ends and removes it. Called once, without
// Slots.mu (closing the poller's file waits for the dispatcher's read,
// which may wait for the mutex), once the jobserver is closed and no
// client is alive.
func (js *jobserver) release() {
	js.closeFiles()
	os.RemoveAll(js.dir)
}

func (js *jobserver) closeFiles() {
	for _, f := range []*os.File{js.f, js.childR, js.childW} {
		if f != nil {
			f.Close()
		}
	}
}

// jobserverStats returns the tokens restored after clients died holding
// them, and the extra tokens dropped (for tests).
func (s *Slots) jobserverStats() (lost, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.js == nil {
		return 0, 0
	}
	return s.js.lost, s.js.dropped
}

// SetMakeflags returns env with MAKEFLAGS set to its value there without
// any -j, --jobs, --jobserver-auth or --jobserver-fds word, followed by
// " " and flags. env itself is not changed.
func SetMakeflags(env []string, flags string) []string {
	old := Getenv(env, "MAKEFLAGS")
	var kept []string
	for _, w := range strings.Fields(old) {
		switch {
		case w == "-j" || strings.HasPrefix(w, "-j") && isDigits(w[2:]),
			w == "--jobs" || strings.HasPrefix(w, "--jobs="),
			strings.HasPrefix(w, "--jobserver-auth="), strings.HasPrefix(w, "--jobserver-fds="):
			continue
		}
		kept = append(kept, w)
	}
	v := strings.Join(append(kept, flags), " ")
	if len(kept) == 0 {
		v = " " + v // as make writes it when no one-letter flag comes first
	}
	return MergeEnv(env, map[string]string{"MAKEFLAGS": v}, nil)
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
