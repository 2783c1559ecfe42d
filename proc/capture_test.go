package proc

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
)

// TestCaptureFromAFile: past spillSize a capture splices its pipe to its
// file; from something that is not a pipe (splice refuses), it reads and
// writes instead, with the same result.
func TestCaptureFromAFile(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, spillSize+3<<20+17)
	rand.Read(data)
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	c := newCapture(dir)
	c.drain(f)
	got, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("Bytes(): %s", firstDiff(got, data))
	}
}

// TestCaptureSmall: a small or empty output keeps no more memory than its
// bytes, and an empty one is an empty, non-nil slice.
func TestCaptureSmall(t *testing.T) {
	for _, n := range []int{0, 1, memStart, memStart + 1, 100 << 10} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte("x"), n)
		go func() { w.Write(data); w.Close() }()
		c := newCapture(t.TempDir())
		c.drain(r)
		got, err := c.Bytes()
		if err != nil || got == nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: Bytes() = %d bytes (nil %v), %v", n, len(got), got == nil, err)
		}
		if n <= 64<<10 && cap(got)-len(got) > 4<<10 {
			t.Errorf("%d bytes kept in a buffer of %d", n, cap(got))
		}
	}
}

// TestCaptureClosedWhileSpliced: a spilled capture whose pipe a daemon
// keeps open is closed by its group after the grace period (waitIO); the
// capture then ends without an error and keeps what it read.
func TestCaptureClosedWhileSpliced(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close() // the daemon's end, open until the test ends
	data := make([]byte, spillSize+1<<20)
	rand.Read(data)
	go w.Write(data)
	c := newCapture(t.TempDir())
	go c.drain(r)
	rd := c.NewReader()
	got := make([]byte, 0, len(data))
	buf := make([]byte, 1<<20)
	for len(got) < len(data) {
		n, err := rd.Read(buf)
		if err != nil {
			t.Fatalf("reader: %v after %d bytes", err, len(got))
		}
		got = append(got, buf[:n]...)
	}
	r.Close() // as waitIO does after the grace period
	<-c.Done()
	whole, err := c.Bytes()
	if err != nil {
		t.Fatalf("Bytes: %v", err)
	}
	if !bytes.Equal(whole, data) || !bytes.Equal(got, data) {
		t.Fatalf("Bytes(): %s; reader: %s", firstDiff(whole, data), firstDiff(got, data))
	}
}
