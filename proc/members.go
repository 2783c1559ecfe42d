package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// untrackedChildren returns hazlua's children that no Group tracks: the
// orphans adopted as subreaper. The kernel gives an adopted orphan to the
// first living thread of the subreaper, hazlua's main thread, so by
// default only that thread's list is read (one pread of a descriptor kept
// open, on the path of every exit); all reads every thread's list, for
// the final sweep.
func untrackedChildren(all bool) []int {
	var kids []int
	if all {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return nil
		}
		for _, t := range tasks {
			kids = appendChildren(kids, "/proc/self/task/"+t.Name()+"/children")
		}
	} else if system.mainChildrenOK {
		kids = preadChildren(kids, system.mainChildren)
	} else {
		kids = appendChildren(kids, mainChildren)
	}
	if len(kids) == 0 {
		return nil
	}
	system.mu.Lock()
	defer system.mu.Unlock()
	out := kids[:0]
	for _, pid := range kids {
		if _, tracked := system.procs[pid]; !tracked {
			out = append(out, pid)
		}
	}
	return out
}

// mainChildren lists the children of hazlua's main thread. initSystem
// keeps it open (system.mainChildren): a read at offset 0 of a /proc
// children file generates the list afresh, so each check is one pread
// instead of an open, a read and a close.
var mainChildren = fmt.Sprintf("/proc/self/task/%d/children", os.Getpid())

// appendChildren appends the pids listed in a /proc children file.
func appendChildren(kids []int, path string) []int {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return kids
	}
	defer unix.Close(fd)
	return preadChildren(kids, fd)
}

// preadChildren appends the pids listed in the /proc children file open
// as fd, read from its start.
func preadChildren(kids []int, fd int) []int {
	var small [512]byte
	buf := small[:]
	n := 0
	for {
		m, err := unix.Pread(fd, buf[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if m <= 0 || err != nil {
			break
		}
		n += m
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
	}
	for _, f := range bytes.Fields(buf[:n]) {
		if pid, err := strconv.Atoi(string(f)); err == nil {
			kids = append(kids, pid)
		}
	}
	return kids
}

// hasMembers reports whether a process other than a zombie is left in
// process group pgid, whose tracked processes have all exited, and whether
// hazlua has adopted orphans (living or not: the reaper has work).
//
// Once a group's processes have exited, their living descendants were
// adopted by hazlua (the subreaper), so when hazlua has no living
// untracked child the group is empty: the common case costs one pread.
// Otherwise /proc is scanned for the group's members.
func hasMembers(pgid int) (members, orphans bool) {
	kids := untrackedChildren(false)
	living := false
	for _, pid := range kids {
		// An orphan's zombie waits for the reaper; it is no member.
		if st, ok := readStat(pid); ok && st.state != 'Z' && st.state != 'X' {
			living = true
			break
		}
	}
	if !living {
		return false, len(kids) > 0
	}
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return false, true
	}
	for _, e := range dir {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok && st.pgrp == pgid && st.state != 'Z' && st.state != 'X' {
			return true, true
		}
	}
	return false, true
}

type procStat struct {
	state byte
	ppid  int
	pgrp  int
}

// readStat reads the state, parent and process group of pid from
// /proc/PID/stat.
func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, false
	}
	f := bytes.Fields(b[i+2:])
	if len(f) < 3 {
		return procStat{}, false
	}
	ppid, _ := strconv.Atoi(string(f[1]))
	pgrp, _ := strconv.Atoi(string(f[2]))
	return procStat{state: f[0][0], ppid: ppid, pgrp: pgrp}, true
}

// killOrphans signals the untracked children of hazlua not in done:
// SIGTERM and SIGCONT, or SIGKILL when hard. An orphan that leads its own
// process group (a daemon that called setsid) gets the signal for its whole
// group. It adds them to done (when not nil) and reports whether hazlua has
// any untracked child at all.
func killOrphans(hard bool, done map[int]bool) bool {
	kids := untrackedChildren(true)
	for _, pid := range kids {
		if done[pid] {
			continue
		}
		if done != nil {
			done[pid] = true
		}
		// A pidfd pins the process: the signal cannot reach a reused pid.
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue
		}
		st, ok := readStat(pid)
		leads := ok && st.pgrp == pid && st.state != 'Z'
		sigs := []unix.Signal{unix.SIGTERM, unix.SIGCONT}
		if hard {
			sigs = []unix.Signal{unix.SIGKILL}
		}
		for _, sig := range sigs {
			if leads {
				// The orphan is an unreaped child of ours, so its pid
				// (and group id) cannot be reused while we signal.
				_ = unix.Kill(-pid, sig)
			}
			_ = unix.PidfdSendSignal(fd, sig, nil, 0)
		}
		unix.Close(fd)
	}
	return len(kids) > 0
}

// sweepOrphans terminates every adopted orphan and waits until hazlua has
// no living untracked child left: SIGTERM first (to each new orphan as
// deaths orphan more), then SIGKILL to all of them once grace has passed,
// or at once when killNow reports true.
func sweepOrphans(grace time.Duration, killNow func() bool) {
	termed := map[int]bool{}
	if !killOrphans(killNow(), termed) {
		return
	}
	deadline := time.Now().Add(grace)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		kickReaper()
		time.Sleep(delay)
		if len(liveOrphans()) == 0 {
			kickReaper()
			return
		}
		if killNow() || time.Now().After(deadline) {
			killOrphans(true, nil)
		} else {
			killOrphans(false, termed)
		}
	}
}

// liveOrphans returns the untracked children that are not zombies.
func liveOrphans() []int {
	var live []int
	for _, pid := range untrackedChildren(true) {
		if st, ok := readStat(pid); ok && st.state != 'Z' && st.state != 'X' {
			live = append(live, pid)
		}
	}
	return live
}
