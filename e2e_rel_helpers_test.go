package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Helpers for the reliability tests in e2e_integrity_test.go and
// e2e_safety_test.go (data integrity, no shell, private temporary files).
// They build on e2e_helpers_test.go.

// relLuaString renders s as a Lua string literal that reads back as exactly
// the bytes of s: printable ASCII as is, every other byte as \ddd.
func relLuaString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "\\%03d", c)
	}
	b.WriteByte('"')
	return b.String()
}

// relLuaList renders values as a Lua list of string literals.
func relLuaList(values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = relLuaString(v)
	}
	return "{" + strings.Join(parts, ",\n") + "}"
}

// relRun runs hazlua on a script (see writeScript) to its end and
// returns its exit status, stdout and stderr lines, after checking that
// stderr shows no Go trace.
func relRun(t *testing.T, dir string, opt runOpts, args ...string) (int, []string, []string) {
	t.Helper()
	r := startHazlua(t, dir, nil, opt, args...)
	code := r.exitCode(t)
	lines := r.stderrLines(t)
	checkNoGoTrace(t, lines)
	var out []string
	if r.stdout != nil {
		if !r.stdout.waitEOF(deadline) {
			t.Fatalf("hazlua's stdout is still open %s after it exited", deadline)
		}
		out = r.stdout.all()
	}
	return code, out, lines
}

// relSHA256 returns the hex SHA-256 of a file and its size.
func relSHA256(t *testing.T, path string) (string, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// relDirWatch reports what happens in one directory (names created or
// renamed into it, files written), from inotify, so a test waits for a
// file without sleeping or polling.
type relDirWatch struct {
	dir string
	f   *os.File
	buf []byte
	got []string // names seen, in order
}

// relWatchDir starts watching dir for new names. Start it before whatever
// creates them.
func relWatchDir(t *testing.T, dir string) *relDirWatch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		t.Fatalf("inotify watch %s: %v", dir, err)
	}
	// A non-blocking fd goes into Go's poller: reads honour deadlines.
	w := &relDirWatch{dir: dir, f: os.NewFile(uintptr(fd), "inotify"), buf: make([]byte, 64<<10)}
	t.Cleanup(func() { w.f.Close() })
	return w
}

// waitName waits until a name for which match is true has been created
// and returns it; it fails the test after the deadline.
func (w *relDirWatch) waitName(t *testing.T, what string, match func(string) bool) string {
	t.Helper()
	var found string
	w.wait(t, what, func() bool {
		for _, n := range w.got {
			if match(n) {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

// wait waits until cond, checked now and after every event in the
// directory, is true; it fails the test after the deadline.
func (w *relDirWatch) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	w.f.SetReadDeadline(time.Now().Add(deadline))
	defer w.f.SetReadDeadline(time.Time{})
	for !cond() {
		n, err := w.f.Read(w.buf)
		if err != nil {
			t.Fatalf("waiting for %s in %s: %v (names seen: %q)", what, w.dir, err, w.got)
		}
		for b := w.buf[:n]; len(b) >= unix.SizeofInotifyEvent; {
			mask := binary.NativeEndian.Uint32(b[4:8])
			nameLen := int(binary.NativeEndian.Uint32(b[12:16]))
			name := string(bytes.TrimRight(b[unix.SizeofInotifyEvent:unix.SizeofInotifyEvent+nameLen], "\x00"))
			b = b[unix.SizeofInotifyEvent+nameLen:]
			if mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
				w.got = append(w.got, name)
			}
		}
	}
}

// relFD is one open file descriptor of a process.
type relFD struct {
	fd   int
	link string      // readlink /proc/PID/fd/N
	mode os.FileMode // of the open file (stat follows the magic link)
}

// relOpenFiles lists the open file descriptors of pid whose link starts with
// prefix.
func relOpenFiles(t *testing.T, pid int, prefix string) []relFD {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []relFD
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.HasPrefix(link, prefix) {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		out = append(out, relFD{fd: fd, link: link, mode: fi.Mode()})
	}
	return out
}

// relProcStat is what a line of /proc/PID/stat says about a process.
type relProcStat struct {
	pid, ppid, pgrp int
	comm            string
}

// relParseStat parses "pid (comm) state ppid pgrp ...".
func relParseStat(line string) (relProcStat, error) {
	open, closing := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || closing < open {
		return relProcStat{}, fmt.Errorf("not a stat line: %q", line)
	}
	var st relProcStat
	var err error
	if st.pid, err = strconv.Atoi(strings.TrimSpace(line[:open])); err != nil {
		return st, err
	}
	st.comm = line[open+1 : closing]
	f := strings.Fields(line[closing+1:])
	if len(f) < 3 {
		return st, fmt.Errorf("short stat line: %q", line)
	}
	if st.ppid, err = strconv.Atoi(f[1]); err != nil {
		return st, err
	}
	st.pgrp, err = strconv.Atoi(f[2])
	return st, err
}

// relMkfifo makes a FIFO in dir.
func relMkfifo(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// relOpenFIFOWriter opens a FIFO for writing, waiting (boundedly) for its
// reader: the open blocks until the other end is opened.
func relOpenFIFOWriter(t *testing.T, path string) *os.File {
	t.Helper()
	type res struct {
		f   *os.File
		err error
	}
	ch := make(chan res, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		ch <- res{f, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		t.Cleanup(func() { r.f.Close() })
		return r.f
	case <-time.After(deadline):
		// Unblock the open so the goroutine ends.
		if rf, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			defer rf.Close()
		}
		t.Fatalf("nobody opened %s for reading within %s", path, deadline)
		return nil
	}
}

// relNames returns the names in dir (nil if it cannot be read).
func relNames(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return []string{"(" + err.Error() + ")"}
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
