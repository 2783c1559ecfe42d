package proc

import (
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The process-wide part of proc: one forking thread, the table of tracked
// children, and the reaper of adopted orphans. Every Manager shares it,
// because a process has one set of children and one subreaper flag.
var system struct {
	once    sync.Once
	started atomic.Bool // initSystem ran
	forkc   chan func() // run on the forking thread

	mu    sync.Mutex       // held across fork+insert, so the reaper never sees an untracked pid of ours
	procs map[int]*Process // started, not yet reaped

	kick chan struct{} // wakes the reaper

	devNull    *os.File // opened once, read-write, for every child that needs it
	devNullErr error
	tty        bool // hazlua has a terminal: watch for SIGTTIN/SIGTTOU stops
}

func initSystem() {
	system.once.Do(func() {
		system.procs = make(map[int]*Process)
		system.forkc = make(chan func())
		system.kick = make(chan struct{}, 1)
		system.tty = isTerminal(0) || isTerminal(2)
		system.devNull, system.devNullErr = os.OpenFile(os.DevNull, os.O_RDWR, 0)
		// Errors are ignored: without the flag, orphans go to init as
		// they would under any other runner; everything else still works.
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		started := make(chan struct{})
		go forker(started)
		<-started
		sigchld := make(chan os.Signal, 1)
		signal.Notify(sigchld, syscall.SIGCHLD)
		go reaper(sigchld)
		system.started.Store(true)
	})
}

// forker runs every fork on one OS thread that it locks and never unlocks,
// so the thread lives as long as hazlua: a child's parent-death signal
// fires when its parent thread exits, and this one only exits with the
// process. The thread's signal mask is emptied, so children start with an
// empty mask (they inherit the forking thread's).
func forker(started chan<- struct{}) {
	runtime.LockOSThread()
	var empty unix.Sigset_t
	_ = unix.PthreadSigmask(unix.SIG_SETMASK, &empty, nil)
	close(started)
	for f := range system.forkc {
		f()
	}
}

// onForker runs f on the forking thread and returns when it is done.
func onForker(f func()) {
	done := make(chan struct{})
	system.forkc <- func() { f(); close(done) }
	<-done
}

// reaper reaps adopted orphans: processes that became hazlua's children
// because their parent died (PR_SET_CHILD_SUBREAPER). It never reaps a
// tracked child, whose Group reaps it after cleaning up its process group.
func reaper(sigchld <-chan os.Signal) {
	for {
		select {
		case <-sigchld:
		case <-system.kick:
		}
		reapOrphans()
		if system.tty {
			checkStopped()
		}
	}
}

// kickReaper asks the reaper for another pass (after a tracked child was
// reaped, an orphan's zombie may have been hidden behind it).
func kickReaper() {
	select {
	case system.kick <- struct{}{}:
	default:
	}
}

func reapOrphans() {
	for {
		var info childInfo
		err := unix.Waitid(unix.P_ALL, 0, info.sys(), unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if err != nil || info.Pid == 0 {
			return
		}
		system.mu.Lock()
		_, tracked := system.procs[int(info.Pid)]
		if !tracked {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(int(info.Pid), &ws, unix.WNOHANG, nil)
		}
		system.mu.Unlock()
		if tracked {
			// Its Group reaps it and kicks us again.
			return
		}
	}
}

// checkStopped fails any tracked child stopped by SIGTTIN or SIGTTOU: it
// tried to use the terminal from the background and would hang forever.
func checkStopped() {
	system.mu.Lock()
	var stopped []*Process
	for _, p := range system.procs {
		var info childInfo
		err := unix.Waitid(unix.P_PIDFD, p.pidfd, info.sys(), unix.WSTOPPED|unix.WNOHANG, nil)
		if err == nil && info.Pid != 0 && info.Code == cldStopped &&
			(info.Status == int32(unix.SIGTTIN) || info.Status == int32(unix.SIGTTOU)) {
			stopped = append(stopped, p)
			p.stopSig = syscall.Signal(info.Status)
		}
	}
	system.mu.Unlock()
	for _, p := range stopped {
		p.g.terminate(termStopped)
	}
}

// childInfo is the siginfo_t of a SIGCHLD as waitid fills it in.
type childInfo struct {
	Signo, Errno, Code, _ int32
	Pid                   int32
	UID                   uint32
	Status                int32
	_                     [100]byte
}

func (c *childInfo) sys() *unix.Siginfo { return (*unix.Siginfo)(unsafe.Pointer(c)) }

// si_code values of a SIGCHLD.
const (
	cldExited  = 1
	cldKilled  = 2
	cldDumped  = 3
	cldStopped = 5
)

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}
