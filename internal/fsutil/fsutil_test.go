package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/testutil"
)

// writeString is a fill function writing s.
func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// checkFile checks a file's contents and kept mode bits.
func checkFile(t *testing.T, path, data string, mode fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != data {
		t.Errorf("%s: %d bytes %.40q, %v; want %d bytes %.40q", path, len(b), b, err, len(data), data)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode()&keptModeBits != mode {
		t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode()&keptModeBits, err, mode)
	}
}

// checkNoTemp fails if a temporary file is left in dir.
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".haz-tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	mask := testutil.Umask(t)
	testutil.WriteFile(t, d+"/exec.sh", "old", 0o750)
	testutil.WriteFile(t, d+"/setuid", "old", 0o755|fs.ModeSetuid)
	testutil.WriteFile(t, d+"/target.txt", "old target", 0o600)
	testutil.Symlink(t, "target.txt", d+"/link.txt")
	testutil.Symlink(t, "link.txt", d+"/link2.txt")
	testutil.Symlink(t, "created-through-link.txt", d+"/dangling")
	testutil.Symlink(t, "loop", d+"/loop")
	if err := os.Mkdir(d+"/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, data string
		wantErr          string // the whole message, "" for success
		check            string // the file that gets data
		mode             fs.FileMode
	}{
		{name: "new file", path: "new.txt", data: "a\x00b", check: "new.txt", mode: 0o644 &^ mask},
		{name: "keeps mode", path: "exec.sh", data: "#!/bin/sh\n", check: "exec.sh", mode: 0o750},
		{name: "keeps setuid", path: "setuid", data: "new", check: "setuid", mode: 0o755 | fs.ModeSetuid},
		{name: "through symlink", path: "link.txt", data: "new target", check: "target.txt", mode: 0o600},
		{name: "through a chain of symlinks", path: "link2.txt", data: "newer target", check: "target.txt", mode: 0o600},
		{name: "through dangling symlink", path: "dangling", data: "made", check: "created-through-link.txt", mode: 0o644 &^ mask},
		{name: "symlink loop", path: "loop", wantErr: "write " + d + "/loop: too many levels of symbolic links"},
		{name: "onto directory", path: "dir", wantErr: "write " + d + "/dir: is a directory"},
		{name: "missing parent", path: "no/such/f", wantErr: "write " + d + "/no/such/f: no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := WriteFileAtomic(filepath.Join(d, c.path), writeString(c.data))
			if c.wantErr != "" {
				var pe *fs.PathError
				if err == nil || err.Error() != c.wantErr || !errors.As(err, &pe) {
					t.Fatalf("error %v, want %q (an *fs.PathError)", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkFile(t, filepath.Join(d, c.check), c.data, c.mode)
		})
	}
	for _, link := range []string{"link.txt", "link2.txt", "dangling"} {
		if fi, err := os.Lstat(filepath.Join(d, link)); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink: %v, %v", link, fi, err)
		}
	}
	checkNoTemp(t, d)
}

// TestWriteFileAtomicFillFails checks that a failing fill leaves the old
// file as it was and no temporary file, and how the error is named.
func TestWriteFileAtomicFillFails(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	path := d + "/f"
	testutil.WriteFile(t, path, "old", 0o640)
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "half of the new")
		return boom
	})
	if !errors.Is(err, boom) || err.Error() != "write "+path+": boom" {
		t.Errorf("error %v, want %q", err, "write "+path+": boom")
	}
	// An error that names a file of its own (a copy's source) is kept.
	src := &fs.PathError{Op: "read", Path: d + "/src", Err: syscall.EIO}
	if err := WriteFileAtomic(path, func(io.Writer) error { return src }); err != src {
		t.Errorf("error %v, want %v as it is", err, src)
	}
	checkFile(t, path, "old", 0o640)
	checkNoTemp(t, d)
}

// TestWriteFileAtomicFIFO checks that a write to an existing FIFO writes
// into it instead of replacing the special file.
func TestWriteFileAtomicFIFO(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	fifo := d + "/fifo"
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := WriteFileAtomic(fifo, writeString("through the pipe")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("reader got %q", s)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("fifo replaced: %v, %v", fi, err)
	}
}

// TestWriteFileAtomicConcurrentReads has a goroutine read the file
// continuously while it is replaced with contents of different sizes: every
// read must see one whole version.
func TestWriteFileAtomicConcurrentReads(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	path := d + "/data"
	big := strings.Repeat("a", 1<<20)
	small := strings.Repeat("b", 200<<10)
	testutil.WriteFile(t, path, big, 0o644)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads int
	var bad []string
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			b, err := os.ReadFile(path)
			reads++
			switch {
			case err != nil:
				bad = append(bad, err.Error())
			case string(b) != big && string(b) != small:
				bad = append(bad, fmt.Sprintf("partial read: %d bytes", len(b)))
			}
			if len(bad) > 5 {
				return
			}
		}
	})
	var err error
	for i := 1; i <= 200 && err == nil; i++ {
		data := small
		if i%2 == 0 {
			data = big
		}
		err = WriteFileAtomic(path, writeString(data))
	}
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("after %d reads: %v", reads, bad)
	}
	t.Logf("%d concurrent reads, all whole", reads)
}

func TestCopyFile(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	data := strings.Repeat("x\x00y", 100000)
	testutil.WriteFile(t, d+"/src.bin", data, 0o750)
	testutil.WriteFile(t, d+"/setuid", "s", 0o711|fs.ModeSetuid)
	testutil.WriteFile(t, d+"/dst-existing", "old", 0o600)
	testutil.Symlink(t, "src.bin", d+"/srclink")
	if err := os.Mkdir(d+"/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, src, dst string
		wantErr        string
		data           string
		mode           fs.FileMode
	}{
		{name: "copy", src: "src.bin", dst: "dst.bin", data: data, mode: 0o750},
		{name: "over existing takes the source's mode", src: "src.bin", dst: "dst-existing", data: data, mode: 0o750},
		{name: "from symlink", src: "srclink", dst: "dst-from-link", data: data, mode: 0o750},
		{name: "setuid kept", src: "setuid", dst: "dst-setuid", data: "s", mode: 0o711 | fs.ModeSetuid},
		{name: "missing source", src: "missing", dst: "x", wantErr: "open " + d + "/missing: no such file or directory"},
		{name: "directory source", src: "dir", dst: "x", wantErr: "copy " + d + "/dir: is a directory"},
		{name: "directory destination", src: "src.bin", dst: "dir", wantErr: "write " + d + "/dir: is a directory"},
		{name: "missing destination dir", src: "src.bin", dst: "no/x", wantErr: "write " + d + "/no/x: no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CopyFile(filepath.Join(d, c.src), filepath.Join(d, c.dst))
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkFile(t, filepath.Join(d, c.dst), c.data, c.mode)
		})
	}
	if fi, err := os.Lstat(d + "/x"); err == nil {
		t.Errorf("failed copy created x: %v", fi.Mode())
	}
	checkNoTemp(t, d)
}

// TestKeepsOldContent makes the directory unwritable: the write and the
// copy fail, naming the target, and the old contents survive. Root ignores
// permission bits, so as root the test reruns itself as an unprivileged
// user.
func TestKeepsOldContent(t *testing.T) {
	if rerunUnprivileged(t) {
		return
	}
	d := t.TempDir()
	sub := d + "/ro"
	testutil.WriteFile(t, sub+"/f.txt", "old contents", 0o644)
	testutil.WriteFile(t, sub+"/src.txt", "copy source", 0o644)
	if err := os.Chmod(sub, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(sub, 0o755) })
	want := "write " + sub + "/f.txt: permission denied"
	if err := WriteFileAtomic(sub+"/f.txt", writeString("new contents")); err == nil || err.Error() != want {
		t.Errorf("write: %v, want %q", err, want)
	}
	if err := CopyFile(sub+"/src.txt", sub+"/f.txt"); err == nil || err.Error() != want {
		t.Errorf("copy: %v, want %q", err, want)
	}
	checkFile(t, sub+"/f.txt", "old contents", 0o644)
	ents, err := os.ReadDir(sub)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"f.txt", "src.txt"}) {
		t.Errorf("directory now holds %v", names)
	}
}

// rerunUnprivileged, when the test runs as root, runs the calling test
// again in a child process (the test binary itself) as uid and gid 65534,
// reports its outcome, and returns true; otherwise it returns false and the
// test runs here.
func rerunUnprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 || os.Getenv("HAZLUA_FSUTIL_UNPRIVILEGED") == "1" {
		return false
	}
	// /proc/self/exe in the child is its own binary, reachable even when
	// the build directory is closed to the unprivileged user.
	cmd := exec.Command("/proc/self/exe", "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "HAZLUA_FSUTIL_UNPRIVILEGED=1", "TMPDIR=/tmp", "GOCOVERDIR=")
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil && bytes.Contains(out, []byte("--- FAIL")) {
		t.Fatalf("unprivileged rerun failed:\n%s", out)
	}
	if err != nil || !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Skipf("cannot rerun as an unprivileged user (%v):\n%s", err, out)
	}
	t.Logf("reran as uid 65534:\n%s", out)
	return true
}

// TestLock: an exclusive lock waits for a shared one (and the other way
// round); shared locks share. Each wait is observed by a goroutine that
// cannot take the lock until the holder releases it.
func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	for _, tt := range []struct {
		name           string
		first, second  bool // shared?
		secondMustWait bool
	}{
		{"exclusive then exclusive", false, false, true},
		{"shared then exclusive", true, false, true},
		{"exclusive then shared", false, true, true},
		{"shared then shared", true, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			unlock, err := Lock(path, tt.first)
			if err != nil {
				t.Fatal(err)
			}
			var released atomic.Bool
			got := make(chan bool)
			go func() {
				u, err := Lock(path, tt.second)
				if err != nil {
					t.Error(err)
					got <- false
					return
				}
				got <- released.Load()
				u()
			}()
			if !tt.secondMustWait {
				if afterRelease := <-got; afterRelease {
					t.Error("second lock granted only after the first was released")
				}
				unlock()
				return
			}
			select {
			case <-got:
				t.Fatal("second lock granted while the first is held")
			case <-time.After(50 * time.Millisecond):
			}
			released.Store(true)
			unlock()
			if afterRelease := <-got; !afterRelease {
				t.Error("second lock granted before the release")
			}
		})
	}
}

// TestTryLock: TryLock fails while another file holds the lock, converts
// a lock its own file holds alone, and succeeds once the other is gone.
func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	a, err := OpenLock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := OpenLock(path)
	defer b.Close()
	if err := a.Lock(true); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(); ok || err != nil {
		t.Errorf("TryLock while another holds a shared lock: %v, %v", ok, err)
	}
	if ok, err := a.TryLock(); !ok || err != nil {
		t.Errorf("TryLock converting its own shared lock: %v, %v", ok, err)
	}
	a.Close()
	if ok, err := b.TryLock(); !ok || err != nil {
		t.Errorf("TryLock after the holder closed: %v, %v", ok, err)
	}
}
