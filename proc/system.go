package proc

import (
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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
	// idle is set when the reaper stopped ticking: hazlua had no child.
	idle atomic.Bool
	// behind is set (under mu) when the reaper stopped at a tracked
	// zombie, which may hide other zombies from waitid(P_ALL): the reap of
	// that process clears it and kicks the reaper.
	behind bool

	devNull    *os.File // opened once, read-write, for every child that needs it
	devNullErr error

	mainChildren   int  // /proc/self/task/PID/children of the main thread, kept open
	mainChildrenOK bool // mainChildren is open
	tty            bool // hazlua has a terminal: watch for SIGTTIN/SIGTTOU stops
}

func initSystem() {
	system.once.Do(func() {
		system.procs = make(map[int]*Process)
		system.forkc = make(chan func())
		system.kick = make(chan struct{}, 1)
		system.tty = isTerminal(0) || isTerminal(2)
		system.devNull, system.devNullErr = os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if fd, err := unix.Open(mainChildren, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			system.mainChildren, system.mainChildrenOK = fd, true
		}
		// Errors are ignored: without the flag, orphans go to init as
		// they would under any other runner; everything else still works.
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		started := make(chan struct{})
		go forker(started)
		<-started
		// SIGCHLD is asked for only with a terminal, where a child
		// stopped by SIGTTIN or SIGTTOU must be seen at once: each one
		// costs a few thread wake-ups (the runtime's signal thread, the
		// os/signal loop, the reaper), for every child that exits.
		var sigchld chan os.Signal
		if system.tty {
			sigchld = make(chan os.Signal, 1)
			signal.Notify(sigchld, syscall.SIGCHLD)
		}
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

// orphanPoll is how often the reaper looks for exited orphans without
// being asked: an orphan is adopted, and exits, without hazlua hearing of
// it when SIGCHLD is not delivered (no terminal), so its zombie waits at
// most this long.
const orphanPoll = 100 * time.Millisecond

// reaper reaps adopted orphans: processes that became hazlua's children
// because their parent died (PR_SET_CHILD_SUBREAPER). It never reaps a
// tracked child, whose Group reaps it after cleaning up its process group.
// It runs a pass when kicked (a group saw orphans, or reaped a zombie the
// reaper waited behind; the shutdown sweep), on SIGCHLD when hazlua has a
// terminal, and every orphanPoll while hazlua has a child (only then can
// an orphan appear); with none, it sleeps until a fork kicks it
// (wakeReaper). Only a SIGCHLD (a child may have stopped) runs the stop
// check too.
func reaper(sigchld <-chan os.Signal) {
	tick := time.NewTicker(orphanPoll)
	for {
		stop := false
		select {
		case <-sigchld:
			stop = true
		case <-system.kick:
		case <-tick.C:
		}
		reapOrphans()
		if stop {
			checkStopped()
		}
		// idle is set before the look, and a fork registers its child
		// before it reads idle: a child forked meanwhile is either seen
		// here or kicks.
		system.idle.Store(true)
		if hasChildren() {
			system.idle.Store(false)
			tick.Reset(orphanPoll)
		} else {
			tick.Stop()
		}
	}
}

// hasChildren reports whether hazlua has a child: a tracked one, or an
// adopted orphan (living or a zombie).
func hasChildren() bool {
	system.mu.Lock()
	n := len(system.procs)
	system.mu.Unlock()
	return n > 0 || len(untrackedChildren(false)) > 0
}

// wakeReaper restarts the reaper's ticks after a fork, if it had stopped
// them for want of a child.
func wakeReaper() {
	if system.idle.Load() && system.idle.CompareAndSwap(true, false) {
		kickReaper()
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
		} else {
			// Its Group reaps it and, seeing behind, kicks us again.
			system.behind = true
		}
		system.mu.Unlock()
		if tracked {
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
