package proc

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxBlockingWatch caps the processes whose exit is awaited by a blocking
// waitid (Options.Awaited), each of which holds an OS thread until the
// process exits. Past the cap, exits are learnt through the network poller,
// which costs no thread.
const maxBlockingWatch = 16

// blockingWatch counts the processes watched by a blocking waitid.
var blockingWatch atomic.Int32

// fork starts p on the forking thread, with files as its fds 0 to 2 and
// extra as fds 3 and up. The first process of a group leads a new process
// group; the others join it. When blocking is true, the
// pidfd stays blocking and p is watched by a blocking waitid (watch);
// otherwise the pidfd is made non-blocking and put in the network poller.
func fork(g *Group, p *Process, spec *Spec, files [3]*os.File, extra []*os.File, blocking bool) error {
	if len(spec.Args) == 0 {
		return fmt.Errorf("empty argv")
	}
	pidfd := -1
	sys := &syscall.SysProcAttr{
		Setpgid:   true,
		Pgid:      g.pgid, // 0 for the first: a new group led by the child
		Pdeathsig: syscall.SIGKILL,
		PidFD:     &pidfd,
	}
	if g.fg && g.pgid == 0 {
		sys.Foreground = true
		sys.Ctty = int(g.m.cfg.Stdin.Fd())
	}
	attr := &syscall.ProcAttr{
		Dir: spec.Dir,
		Env: spec.Env,
		Files: []uintptr{
			files[0].Fd(), files[1].Fd(), files[2].Fd(),
		},
		Sys: sys,
	}
	for _, f := range extra {
		attr.Files = append(attr.Files, f.Fd())
	}
	if attr.Env == nil {
		attr.Env = []string{}
	}
	var pid int
	var err error
	// Only the fork and the registration run on the forking thread, so
	// it hands the caller back as soon as the child has exec'd.
	onForker(func() {
		// Held until p is tracked: the reaper and the stop check read
		// system.procs (and each process's pidfd) under it.
		system.mu.Lock()
		defer system.mu.Unlock()
		// Taken before the fork, so a duration is never shorter than
		// the child's life however late this goroutine runs after it.
		p.start = time.Now()
		pid, err = syscall.ForkExec(spec.Path, spec.Args, attr)
		if err != nil {
			return
		}
		if pidfd < 0 {
			// Cannot happen on the kernels proc supports (5.4+). The
			// child is unreaped (nobody reaps a pid held in this lock),
			// so its pid cannot be reused before the pidfd pins it.
			if pidfd, err = unix.PidfdOpen(pid, 0); err != nil {
				_ = unix.Kill(pid, unix.SIGKILL)
				var ws unix.WaitStatus
				_, _ = unix.Wait4(pid, &ws, 0, nil)
				err = fmt.Errorf("pidfd: %w", err)
				return
			}
		}
		p.Pid = pid
		p.pidfd = pidfd
		if g.pgid == 0 {
			// Before p is visible: the stop check (checkStopped)
			// may terminate its group at once, and kill(-0) would
			// signal hazlua's own process group.
			g.pgid = pid
		}
		system.procs[pid] = p
	})
	if err != nil {
		return err
	}
	wakeReaper()
	if blocking {
		p.blocking = true
	} else {
		// F_SETFL sets only the status flags: a pidfd has none but
		// O_NONBLOCK to keep, so no F_GETFL first. os.NewFile sees the
		// flag and registers the descriptor with the poller.
		_, _ = unix.FcntlInt(uintptr(pidfd), unix.F_SETFL, unix.O_NONBLOCK)
		p.pidf = os.NewFile(uintptr(pidfd), "pidfd")
	}
	return nil
}
