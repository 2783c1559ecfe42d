package proc

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// fork starts p on the forking thread. The first process of a group leads
// a new process group; the others join it.
func fork(g *Group, p *Process, spec *Spec, files [3]*os.File) error {
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
	if attr.Env == nil {
		attr.Env = []string{}
	}
	var pid int
	var err error
	onForker(func() {
		// Held until p is complete and tracked: the reaper and the stop
		// check read system.procs under it.
		system.mu.Lock()
		defer system.mu.Unlock()
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
		_ = unix.SetNonblock(pidfd, true)
		p.Pid = pid
		p.pidfd = pidfd
		p.pidf = os.NewFile(uintptr(pidfd), fmt.Sprintf("pidfd:%d", pid))
		p.start = time.Now()
		system.procs[pid] = p
	})
	if err != nil {
		return err
	}
	if g.pgid == 0 {
		g.pgid = pid
	}
	return nil
}
