package proc

// Fuzz target of captures (docs/api.md: Guarantees: no lost or altered byte in captured
// output). `go test ./proc` runs it on its seed corpus
// (testdata/fuzz/FuzzCapture and the f.Add calls); a longer run is
//
//	go test -run '^$' -fuzz '^FuzzCapture$' -fuzztime 30s ./proc

import (
	"bytes"
	"io"
	"os"
	"syscall"
	"testing"
)

// FuzzCapture pushes fuzzed bytes, in fuzzed write sizes, through a pipe
// into a Capture (its drain, as Start runs it), while a reader follows it
// with fuzzed read sizes. With spill, 4 MiB of filler come first, so the
// capture moves to its temporary file mid-stream. The reader and Bytes
// both see the input byte for byte; a spilled capture's file is private
// (0600), unlinked (no name in the temporary directory, link count 0).
func FuzzCapture(f *testing.F) {
	f.Add([]byte("hello\nworld"), []byte{1, 2, 3}, uint16(0), false)
	f.Add([]byte{0, 0xff, '\n', 0}, []byte{200}, uint16(999), true)
	f.Add([]byte(""), []byte{}, uint16(0), true)
	f.Add([]byte("no newline"), []byte{255, 0, 7}, uint16(3000), false)
	f.Fuzz(func(t *testing.T, data, sizes []byte, rep uint16, spill bool) {
		if len(data) > 64<<10 || len(sizes) > 64 {
			return
		}
		input := bytes.Repeat(data, 1+int(rep)%4096)
		if len(input) > 2<<20 {
			input = input[:2<<20]
		}
		if spill {
			filler := bytes.Repeat([]byte("0123456789abcdef"), spillSize/16)
			input = append(filler, input...)
		}
		// Write and read sizes: 1 to 128 bytes or 8 KiB to 1 MiB, but
		// never so small that the input takes more than 2048 calls.
		floor := len(input) / 2048
		size := func(i int) int {
			if len(sizes) == 0 {
				return 64 << 10
			}
			c := int(sizes[i%len(sizes)])
			if c < 128 {
				return max(floor, c+1)
			}
			return (c - 127) * 8192
		}

		dir := t.TempDir()
		c := newCapture(dir)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go c.drain(r)
		go func() {
			defer w.Close()
			p := input
			for i := 0; len(p) > 0; i++ {
				n := min(size(i), len(p))
				if _, err := w.Write(p[:n]); err != nil {
					t.Errorf("write: %v", err)
					return
				}
				p = p[n:]
			}
		}()

		// Follow the capture while it grows.
		var followed []byte
		rd := c.NewReader()
		buf := make([]byte, 1<<20)
		for i := len(sizes); ; i++ {
			n, err := rd.Read(buf[:size(i)])
			followed = append(followed, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reader: %v after %d bytes", err, len(followed))
			}
		}
		<-c.Done()
		if len(input) > spillSize {
			c.mu.Lock()
			file := c.file
			c.mu.Unlock()
			if file == nil {
				t.Fatalf("%d bytes captured without spilling", len(input))
			}
			var st syscall.Stat_t
			if err := syscall.Fstat(int(file.Fd()), &st); err != nil {
				t.Fatal(err)
			}
			if st.Mode&0o777 != 0o600 || st.Nlink != 0 {
				t.Fatalf("spill file: mode %o, %d links; want 0600 and unlinked", st.Mode&0o777, st.Nlink)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Fatalf("the temporary directory has %d entries", len(ents))
			}
		}
		whole, err := c.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if c.Len() != int64(len(input)) {
			t.Fatalf("Len() = %d, want %d", c.Len(), len(input))
		}
		if !bytes.Equal(whole, input) {
			t.Fatalf("Bytes(): %s", firstDiff(whole, input))
		}
		if !bytes.Equal(followed, input) {
			t.Fatalf("the reader that followed: %s", firstDiff(followed, input))
		}
		// A reader started after the end reads everything too.
		late, err := io.ReadAll(c.NewReader())
		if err != nil || !bytes.Equal(late, input) {
			t.Fatalf("a late reader: %v, %s", err, firstDiff(late, input))
		}
	})
}

// firstDiff describes how got differs from want.
func firstDiff(got, want []byte) string {
	n := min(len(got), len(want))
	for i := range n {
		if got[i] != want[i] {
			return "first difference at byte " + itoa(i) + " of " + itoa(len(want))
		}
	}
	if len(got) != len(want) {
		return "got " + itoa(len(got)) + " bytes, want " + itoa(len(want))
	}
	return "equal"
}
