package proc

import "golang.org/x/sys/unix"

// canForeground reports whether a group can be given the terminal: hazlua's
// stdin is a terminal and hazlua's process group is its foreground group.
func (m *Manager) canForeground() bool {
	fd := int(m.cfg.Stdin.Fd())
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err == nil && fg == unix.Getpgrp()
}

// reclaimTerminal makes hazlua's process group the terminal's foreground
// group again. It runs on the forking thread with SIGTTOU blocked, since
// hazlua is in the background when it asks.
func (m *Manager) reclaimTerminal() {
	fd := int(m.cfg.Stdin.Fd())
	onForker(func() {
		var set, old unix.Sigset_t
		set.Val[0] = 1 << (uint(unix.SIGTTOU) - 1)
		_ = unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old)
		_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, unix.Getpgrp())
		_ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	})
}
