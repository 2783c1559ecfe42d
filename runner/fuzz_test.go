package runner

// Fuzz target of the output sinks' line splitting (docs/api.md: Output, Guarantees). `go test
// ./runner` runs it on its seed corpus (testdata/fuzz/FuzzSinkLines and
// the f.Add calls); a longer run is
//
//	go test -run '^$' -fuzz '^FuzzSinkLines$' -fuzztime 30s ./runner

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"unicode/utf8"
)

// fuzzMax bounds an expanded input: enough for lines of several pieces,
// small enough for thousands of runs a second.
const fuzzMax = 320 << 10

// fuzzInput expands a fuzzed input: data repeated (1 + rep%400) times, at
// most fuzzMax bytes, so that small inputs reach lines longer than maxLine.
func fuzzInput(data []byte, rep uint16) []byte {
	n := 1 + int(rep)%400
	if len(data)*n > fuzzMax {
		n = max(1, fuzzMax/max(1, len(data)))
	}
	return bytes.Repeat(data, n)
}

// chunkSizes turns fuzzed bytes into write sizes: 1 to 64 bytes, 64 bytes
// to 4 KiB, or 4 KiB to 512 KiB, but never so small that the input takes
// more than 4096 writes.
func chunkSizes(b []byte, total int) []int {
	var out []int
	floor := total / 4096
	for _, c := range b {
		switch {
		case c < 64:
			out = append(out, max(floor, int(c)+1))
		case c < 128:
			out = append(out, max(floor, int(c-63)*64))
		default:
			out = append(out, int(c-127)*4096)
		}
	}
	if len(out) == 0 {
		out = []int{1 << 20}
	}
	return out
}

// writeChunks writes p to w in chunks of the given sizes, cycling.
func writeChunks(t *testing.T, w io.Writer, p []byte, sizes []int) {
	for i := 0; len(p) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(p))
		if k, err := w.Write(p[:n]); k != n || err != nil {
			t.Errorf("Write(%d bytes) = %d, %v", n, k, err)
			return
		}
		p = p[n:]
	}
}

// inputLines splits p into lines, a final unterminated line included.
func inputLines(p []byte) [][]byte {
	lines := bytes.SplitAfter(p, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\n"))
	}
	return lines
}

// checkPieces checks that pieces are lines cut as docs/api.md (Output) says: each line
// of the input, in order, as one piece, or, when longer than 64 KiB, as
// several pieces of at most 64 KiB that join to it, cut at most 3 bytes
// early and only to keep a UTF-8 sequence whole (a valid UTF-8 line gives
// valid UTF-8 pieces). Nothing is lost, added or reordered.
func checkPieces(t *testing.T, who string, input []byte, pieces [][]byte) {
	t.Helper()
	k := 0
	for li, line := range inputLines(input) {
		if len(line) <= maxLine {
			if k >= len(pieces) || !bytes.Equal(pieces[k], line) {
				t.Fatalf("%s: line %d (%d bytes) is not the next piece (%s)", who, li+1, len(line), describePiece(pieces, k))
			}
			k++
			continue
		}
		valid := utf8.Valid(line)
		for rest := line; len(rest) > 0; k++ {
			if k >= len(pieces) {
				t.Fatalf("%s: line %d (%d bytes): output ended with %d bytes of it missing", who, li+1, len(line), len(rest))
			}
			p := pieces[k]
			switch {
			case len(p) == 0 || len(p) > maxLine:
				t.Fatalf("%s: line %d: a piece of %d bytes", who, li+1, len(p))
			case !bytes.HasPrefix(rest, p):
				t.Fatalf("%s: line %d: piece %d is not the next part of the line", who, li+1, k+1)
			case len(p) < len(rest) && len(p) < maxLine-(utf8.UTFMax-1):
				t.Fatalf("%s: line %d: a piece of %d bytes cut before the rest (%d bytes) of a long line", who, li+1, len(p), len(rest))
			case valid && !utf8.Valid(p):
				t.Fatalf("%s: line %d is valid UTF-8, but piece %d (%d bytes) cuts a character", who, li+1, k+1, len(p))
			}
			rest = rest[len(p):]
		}
	}
	if k != len(pieces) {
		t.Fatalf("%s: %d pieces more than the input has", who, len(pieces)-k)
	}
}

func describePiece(pieces [][]byte, k int) string {
	if k >= len(pieces) {
		return "the output ended"
	}
	return strconv.Itoa(len(pieces[k])) + " bytes: " + strconv.Quote(string(pieces[k][:min(len(pieces[k]), 40)]))
}

// FuzzSinkLines writes two fuzzed streams at once, in fuzzed chunk sizes,
// through two task sinks into one file. In prefixed mode every output line
// is "[a] " or "[b] " followed by a piece of a line of that task's input,
// in order (checkPieces), the two tasks mixing only between lines, and
// each sink's Tail is its last pieces. In grouped mode each task's block
// is its input byte for byte, a newline added after a final partial line.
func FuzzSinkLines(f *testing.F) {
	f.Add([]byte("hello\nworld"), []byte{0, 1, 2}, uint16(0), false)
	f.Add([]byte("no newline at all "), []byte{200, 3}, uint16(399), false)
	f.Add([]byte("é✓🎉"), []byte{5, 130}, uint16(399), false)
	f.Add([]byte("\n\n\r\n\x00\xff"), []byte{0}, uint16(7), true)
	f.Add(bytes.Repeat([]byte("x"), 65535), []byte{255}, uint16(2), false)
	f.Add([]byte("line\n"), []byte{127, 128}, uint16(300), true)
	f.Fuzz(func(t *testing.T, data, chunks []byte, rep uint16, grouped bool) {
		if len(data) > fuzzMax || len(chunks) > 64 {
			return
		}
		inputs := [2][]byte{fuzzInput(data, rep), fuzzInput(bytes.ToUpper(data), rep/3)}
		sizes := chunkSizes(chunks, len(inputs[0]))
		mode := Prefixed
		if grouped {
			mode = Grouped
		}
		out, err := os.CreateTemp(t.TempDir(), "out")
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		o := NewOutput(out, out, mode, false, true, false)
		names := [2]string{"a", "b"}
		sinks := [2]*Sink{o.Sink(names[0]), o.Sink(names[1])}
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				w, done := sinks[i].Writer(Stdout)
				sz := sizes
				if i == 1 {
					sz = slices.Clone(sizes)
					slices.Reverse(sz)
				}
				writeChunks(t, w, inputs[i], sz)
				done()
			})
		}
		wg.Wait()
		for _, s := range sinks {
			s.Close()
		}
		if err := o.Err(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(out.Name())
		if err != nil {
			t.Fatal(err)
		}

		if grouped {
			var want []byte
			for _, in := range inputs {
				want = append(want, in...)
				if len(in) > 0 && in[len(in)-1] != '\n' {
					want = append(want, '\n')
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("grouped output: %d bytes, want %d (the two inputs, whole, one after the other)", len(got), len(want))
			}
			return
		}

		if len(got) > 0 && got[len(got)-1] != '\n' {
			t.Fatalf("prefixed output does not end with a newline")
		}
		var pieces [2][][]byte
		for i, line := range bytes.Split(bytes.TrimSuffix(got, []byte("\n")), []byte("\n")) {
			if len(got) == 0 {
				break
			}
			switch {
			case bytes.HasPrefix(line, []byte("[a] ")):
				pieces[0] = append(pieces[0], line[4:])
			case bytes.HasPrefix(line, []byte("[b] ")):
				pieces[1] = append(pieces[1], line[4:])
			default:
				t.Fatalf("output line %d has no task prefix (lines of two tasks mixed?): %q", i+1, line[:min(len(line), 60)])
			}
		}
		for i := range 2 {
			checkPieces(t, names[i], inputs[i], pieces[i])
			var want []string
			for _, p := range pieces[i][max(0, len(pieces[i])-tailLines):] {
				want = append(want, string(p[:min(len(p), tailWidth)]))
			}
			if tail := sinks[i].Tail(); !slices.Equal(tail, want) {
				t.Fatalf("%s: Tail() = %q, want the last pieces %q", names[i], tail, want)
			}
		}
	})
}
