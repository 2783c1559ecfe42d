package proc

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkOsExecTrue is the anchor. It runs first: once a Manager
// exists, its reaper also reaps children that os/exec waits for.
func BenchmarkOsExecTrue(b *testing.B) {
	for b.Loop() {
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForkExecFloor is the floor under BenchmarkStartTrue: the same
// fork (new process group, parent-death signal, pidfd) on the calling
// goroutine's thread, and a blocking waitid on the pidfd, with none of the
// Manager's work (the forking thread, the watch, the group's end). Like
// the os/exec anchor, it must run before any Manager exists (go test
// -run '^$' -bench .): the reaper reaps children it does not track.
func BenchmarkForkExecFloor(b *testing.B) {
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	fd := devNull.Fd()
	for b.Loop() {
		pidfd := -1
		attr := &syscall.ProcAttr{
			Env:   []string{},
			Files: []uintptr{fd, fd, fd},
			Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, PidFD: &pidfd},
		}
		if _, err := syscall.ForkExec("/bin/true", []string{"true"}, attr); err != nil {
			b.Fatal(err)
		}
		var info childInfo
		for {
			err = unix.Waitid(unix.P_PIDFD, pidfd, info.sys(), unix.WEXITED, nil)
			if err != unix.EINTR {
				break
			}
		}
		unix.Close(pidfd)
		if err != nil || info.Code != cldExited || info.Status != 0 {
			b.Fatalf("waitid: %v, code %d status %d", err, info.Code, info.Status)
		}
	}
}

// BenchmarkStartTrue measures one spawn-and-wait of /bin/true through a
// Manager, next to the same through os/exec; the exit is learnt through
// the network poller, as for a process the caller does not wait for at
// once (haz.spawn).
func BenchmarkStartTrue(b *testing.B) {
	benchmarkStart(b, Options{})
}

// BenchmarkStartTrueAwaited is BenchmarkStartTrue for a caller that waits
// at once (haz.run): the exit is learnt by a blocking waitid.
func BenchmarkStartTrueAwaited(b *testing.B) {
	benchmarkStart(b, Options{Awaited: true})
}

func benchmarkStart(b *testing.B, opt Options) {
	m := NewManager(Config{})
	for b.Loop() {
		g, err := m.Start(context.Background(), opt, &Spec{Path: "/bin/true", Args: []string{"true"}})
		if err != nil {
			b.Fatal(err)
		}
		<-g.Done()
	}
}
