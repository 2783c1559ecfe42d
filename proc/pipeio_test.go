package proc

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// waitBlocked waits until a goroutine is parked in the poller with fn on
// its stack: the call is blocked on its pipe, not about to start. It reads
// the goroutines' state; it does not guess with a timer.
func waitBlocked(t *testing.T, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		for g := range strings.SplitSeq(string(buf[:n]), "\n\n") {
			if strings.Contains(g, "[IO wait") && strings.Contains(g, "proc."+fn+"(") {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
}

type ioResult struct {
	n   int
	err error
}

// TestReadContextCancel cancels a read blocked on an empty pipe: it
// returns context.Canceled, and the next read (with a live context) gets
// the bytes written afterwards, so the deadline is cleared and nothing is
// lost.
func TestReadContextCancel(t *testing.T) {
	r, w := pipe(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan ioResult)
	go func() {
		n, err := ReadContext(ctx, r, make([]byte, 10))
		done <- ioResult{n, err}
	}()
	waitBlocked(t, "ReadContext")
	cancel()
	if res := <-done; res.n != 0 || !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled read: %d, %v; want 0, context.Canceled", res.n, res.err)
	}
	if _, err := w.WriteString("after"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	n, err := ReadContext(context.Background(), r, buf)
	if err != nil || string(buf[:n]) != "after" {
		t.Fatalf("read after the cancel: %q, %v; want \"after\"", buf[:n], err)
	}
}

// TestWriteStringContextCancel cancels a write blocked on a full pipe: it
// returns the bytes written so far and context.Canceled, and a later write
// goes through; the reader sees exactly the part written, then the rest.
func TestWriteStringContextCancel(t *testing.T) {
	r, w := pipe(t)
	data := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB, more than a pipe holds
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan ioResult)
	go func() {
		n, err := WriteStringContext(ctx, w, data)
		done <- ioResult{n, err}
	}()
	waitBlocked(t, "WriteStringContext")
	cancel()
	res := <-done
	if res.n >= len(data) || !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled write: %d of %d bytes, %v; want fewer, context.Canceled", res.n, len(data), res.err)
	}
	go func() {
		_, err := WriteStringContext(context.Background(), w, "tail")
		w.Close()
		done <- ioResult{0, err}
	}()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if res := <-done; res.err != nil {
		t.Fatalf("write after the cancel: %v", res.err)
	}
	if want := data[:res.n] + "tail"; string(got) != want {
		t.Fatalf("the reader got %d bytes, want the %d written before the cancel and \"tail\"", len(got), res.n)
	}
}

// TestPipeContextDone checks a context already done: nothing is read or
// written, and the pipe is left as it was.
func TestPipeContextDone(t *testing.T) {
	r, w := pipe(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := WriteStringContext(ctx, w, "x"); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("write: %d, %v", n, err)
	}
	if _, err := w.WriteString("y"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if n, err := ReadContext(ctx, r, buf); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("read: %d, %v", n, err)
	}
	if n, err := ReadContext(context.Background(), r, buf); err != nil || string(buf[:n]) != "y" {
		t.Fatalf("read with a live context: %q, %v; want \"y\"", buf[:n], err)
	}
}

// TestPipeContextEnds checks that the end of a pipe comes through as is:
// io.EOF for the reader, EPIPE for the writer.
func TestPipeContextEnds(t *testing.T) {
	r, w := pipe(t)
	w.Close()
	if n, err := ReadContext(context.Background(), r, make([]byte, 4)); n != 0 || err != io.EOF {
		t.Errorf("read at the end: %d, %v; want 0, io.EOF", n, err)
	}
	r2, w2 := pipe(t)
	r2.Close()
	if _, err := WriteStringContext(context.Background(), w2, "x"); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("write to a closed reader: %v; want EPIPE", err)
	}
}

// TestPipeContextByteExact moves 4 MiB of random bytes through a pipe in
// chunks of random sizes, writes and reads each with its own context
// (cancelled after the call, which must not matter).
func TestPipeContextByteExact(t *testing.T) {
	r, w := pipe(t)
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 4<<20)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	data := string(b)
	written := make(chan error, 1)
	go func() {
		rng := rand.New(rand.NewPCG(3, 4))
		defer w.Close()
		for p := data; len(p) > 0; {
			n := min(1+rng.IntN(256<<10), len(p))
			ctx, cancel := context.WithCancel(context.Background())
			_, err := WriteStringContext(ctx, w, p[:n])
			cancel()
			if err != nil {
				written <- err
				return
			}
			p = p[n:]
		}
		written <- nil
	}()
	var got []byte
	buf := make([]byte, 256<<10)
	for {
		ctx, cancel := context.WithCancel(context.Background())
		n, err := ReadContext(ctx, r, buf[:1+rng.IntN(len(buf))])
		cancel()
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if string(got) != data {
		t.Fatalf("read back %s", firstDiff(got, b))
	}
}
