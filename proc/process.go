package proc

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process is one child. Its fields are set by Start and read-only; its
// methods are safe for use by many goroutines.
type Process struct {
	Pid  int
	Name string

	g        *Group
	pidfd    int      // raw descriptor, valid while in system.procs
	pidf     *os.File // owns pidfd and polls it for the exit; nil when blocking
	blocking bool     // the exit is awaited by a blocking waitid (Options.Awaited)
	start    time.Time

	stdin     *os.File // InPipe: write end
	stdinOnce sync.Once

	mu          sync.Mutex
	stdout      *os.File // OutPipe: read end, until taken
	stdoutTaken bool
	outCap      *Capture // OutCapture, or OutPipe drained by DrainStdout
	errCap      *Capture // OutCapture on stderr

	// Set once when the process exits, before Group.Done is closed.
	info    childInfo
	end     time.Time
	stopSig syscall.Signal // SIGTTIN or SIGTTOU, if it was stopped by one
}

// Result is how a process ended.
type Result struct {
	Pid       int
	Name      string
	Code      int            // exit code; -1 when killed by a signal
	Signal    syscall.Signal // the signal that killed it; 0 if it exited
	TimedOut  bool           // its group was terminated by Options.Timeout
	Cancelled bool           // its group was terminated because its context ended
	Duration  time.Duration
	// Err is a failure of hazlua's own around the process: its output
	// could not be stored, or it was stopped trying to use the terminal.
	Err error
}

// OK reports whether the process exited 0 on its own.
func (r *Result) OK() bool {
	return r.Code == 0 && r.Signal == 0 && !r.TimedOut && !r.Cancelled && r.Err == nil
}

// String describes the result: "exit 2", "signal kill", "timed out"...
func (r *Result) String() string {
	switch {
	case r.TimedOut:
		return "timed out"
	case r.Cancelled:
		return "cancelled"
	case r.Err != nil:
		return r.Err.Error()
	case r.Signal != 0:
		return "killed by signal " + SignalName(r.Signal)
	default:
		return fmt.Sprintf("exit status %d", r.Code)
	}
}

// Group returns the process group the process belongs to.
func (p *Process) Group() *Group { return p.g }

// Result returns how the process ended. It is valid once the group's Done
// channel is closed; before that it returns nil.
func (p *Process) Result() *Result {
	select {
	case <-p.g.done:
	default:
		return nil
	}
	r := &Result{Pid: p.Pid, Name: p.Name, Code: -1, Duration: p.end.Sub(p.start)}
	switch p.info.Code {
	case cldExited:
		r.Code = int(p.info.Status)
	case cldKilled, cldDumped:
		r.Signal = syscall.Signal(p.info.Status)
	}
	g := p.g
	r.TimedOut, r.Cancelled = g.timedOut, g.cancelled && !g.timedOut
	if p.stopSig != 0 {
		r.Err = fmt.Errorf("stopped by SIG%s: it used the terminal without stdin = \"inherit\"",
			upper(SignalName(p.stopSig)))
	}
	for _, c := range []*Capture{p.captureOut(), p.errCap} {
		if c != nil && r.Err == nil {
			r.Err = c.Err()
		}
	}
	return r
}

// Stdin returns the write end of an InPipe standard input, or nil. Closing
// it ends the child's input; CloseStdin closes it once.
func (p *Process) Stdin() *os.File { return p.stdin }

// CloseStdin closes an InPipe standard input; later calls do nothing.
func (p *Process) CloseStdin() error {
	if p.stdin == nil {
		return nil
	}
	var err error
	p.stdinOnce.Do(func() { err = p.stdin.Close() })
	return err
}

// ErrTaken is returned by TakeStdout when the pipe was already taken.
var ErrTaken = errors.New("proc: stdout pipe already taken")

// TakeStdout hands over the read end of an OutPipe standard output: to be
// another process's stdin (InReader), or read by the caller, who must
// close it. It fails with ErrTaken the second time, and when the output was
// not OutPipe.
func (p *Process) TakeStdout() (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stdout == nil || p.stdoutTaken {
		return nil, ErrTaken
	}
	p.stdoutTaken = true
	f := p.stdout
	p.stdout = nil
	return f, nil
}

// PipeAvailable reports whether the OutPipe stdout can still be taken.
func (p *Process) PipeAvailable() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout != nil && !p.stdoutTaken
}

// DrainStdout reads an untaken OutPipe stdout into memory, so that waiting
// for the process never hangs on a full pipe, and returns the Capture
// (whose Done tells when it is complete). It returns the existing capture
// for OutCapture or an earlier DrainStdout, and nil when there is nothing
// to drain.
func (p *Process) DrainStdout() *Capture {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outCap != nil {
		return p.outCap
	}
	if p.stdout == nil || p.stdoutTaken {
		return nil
	}
	c := newCapture(p.g.m.cfg.TempDir)
	p.outCap, p.stdoutTaken = c, true
	f := p.stdout
	p.stdout = nil
	go c.drain(f)
	p.g.closeLater(f)
	return c
}

// KeepStdout takes back f, the OutPipe stdout TakeStdout handed out, from
// a reader that stops before its end: the rest of f is read into a new
// Capture, which owns f from then on, so the child never blocks on a full
// pipe and no byte is lost. The Capture holds only what the reader had not
// read; it is not StdoutCapture. Like a drained pipe, f is closed a grace
// period after the group is done if something else (a daemon) still holds
// it open. The caller must not use f afterwards.
func (p *Process) KeepStdout(f *os.File) *Capture {
	c := newCapture(p.g.m.cfg.TempDir)
	go c.drain(f)
	p.g.closeLater(f)
	return c
}

// captureOut returns the capture of an OutCapture (or drained OutPipe)
// standard output, or nil.
func (p *Process) captureOut() *Capture {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.outCap
}

// StdoutCapture returns the capture of standard output (OutCapture, or an
// OutPipe drained by DrainStdout), or nil.
func (p *Process) StdoutCapture() *Capture { return p.captureOut() }

// StderrCapture returns the capture of an OutCapture standard error, or nil.
func (p *Process) StderrCapture() *Capture { return p.errCap }

// watch waits for the process to exit, without reaping it, and tells the
// group. It runs on its own goroutine, parked on the pidfd in the network
// poller (no OS thread per child), or, for a process whose caller waits at
// once (Options.Awaited), blocked in waitid on a thread of its own: one
// system call, and the thread that learns of the exit goes on with the
// group's end at once.
func (p *Process) watch() {
	var err error
	if p.blocking {
		for {
			// WNOWAIT: the exit is learnt, the zombie stays for reap.
			err = unix.Waitid(unix.P_PIDFD, p.pidfd, p.info.sys(), unix.WEXITED|unix.WNOWAIT, nil)
			if err != unix.EINTR {
				break
			}
		}
	} else {
		var rc syscall.RawConn
		rc, err = p.pidf.SyscallConn()
		if err == nil {
			err = rc.Read(func(fd uintptr) bool {
				// With WNOHANG, a running child gives no error and
				// no pid (EAGAIN only comes without WNOHANG).
				err := unix.Waitid(unix.P_PIDFD, int(fd), p.info.sys(), unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
				return err != unix.EAGAIN && (err != nil || p.info.Pid != 0)
			})
		}
	}
	if err != nil || p.info.Pid == 0 {
		// Not pollable: wait in poll(2) instead, on this goroutine's thread.
		for p.info.Pid == 0 {
			fds := []unix.PollFd{{Fd: int32(p.pidfd), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
				break
			}
			if err := unix.Waitid(unix.P_PIDFD, p.pidfd, p.info.sys(), unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil); err != nil && err != unix.EAGAIN {
				break
			}
		}
	}
	p.end = time.Now()
	p.g.exited()
}

// Started returns when the process was started (just before its fork).
func (p *Process) Started() time.Time { return p.start }

// reap collects the exited child's status and forgets it. Called by the
// group once the rest of the process group is gone. If the reaper stopped
// at this zombie (it hides the zombies behind it from waitid(P_ALL)), reap
// kicks it for another pass; otherwise the reaper has nothing to redo,
// which saves a wake-up per process.
func (p *Process) reap() {
	system.mu.Lock()
	var info childInfo
	for {
		err := unix.Waitid(unix.P_PIDFD, p.pidfd, info.sys(), unix.WEXITED, nil)
		if err != unix.EINTR {
			break
		}
	}
	delete(system.procs, p.Pid)
	kick := system.behind
	system.behind = false
	system.mu.Unlock()
	if p.pidf != nil {
		p.pidf.Close()
	} else {
		unix.Close(p.pidfd)
	}
	if p.blocking {
		blockingWatch.Add(-1)
	}
	if kick {
		kickReaper()
	}
}
