package runner

import (
	"bytes"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

const (
	// maxLine is the longest line written as one piece in prefixed mode;
	// a longer line is written as several prefixed pieces.
	maxLine = 64 << 10
	// flushAt bounds the bytes a writer gathers before writing them out.
	flushAt = 256 << 10
	// tailLines and tailWidth bound what a sink keeps for the summary.
	tailLines = 10
	tailWidth = 512
	// spillAt is how much grouped output a stream holds in memory before
	// it moves to an unlinked temporary file.
	spillAt = 4 << 20
)

// Sink is one task's output: what its body, its processes and the Lua
// print functions write. Get one from Output.Sink. All methods are safe
// for concurrent use. A nil *Sink discards everything.
type Sink struct {
	o      *Output
	name   string
	prefix []byte                    // "[name] " in prefixed mode, else empty
	shared [2]*lineWriter            // Stdout(), Stderr()
	gmu    sync.Mutex                // guards closed, and held's groups
	closed bool                      // Close was called
	held   atomic.Pointer[sinkState] // what was written: made by the first write
	rec    atomic.Pointer[recorder]  // Record: a copy of the output, for the cache
}

// sinkState is what a sink keeps of the output written through it. A sink
// makes it when output first reaches it: most tasks write nothing, and a
// sink without it is small.
type sinkState struct {
	groups [2]groupBuffer    // grouped mode: held output (under Sink.gmu)
	tmu    sync.Mutex        // guards tail
	tail   [tailLines][]byte // ring of the last lines
	tailN  int               // lines recorded so far
}

// state returns the sink's state, making it if needed.
func (s *Sink) state() *sinkState {
	if st := s.held.Load(); st != nil {
		return st
	}
	s.held.CompareAndSwap(nil, new(sinkState))
	return s.held.Load()
}

// Sink returns a new sink for the task named task. Run makes one per
// running task; the Lua layer may make others (for example for script
// output). On a nil Output it returns nil, a sink that discards.
func (o *Output) Sink(task string) *Sink {
	if o == nil {
		return nil
	}
	s := &Sink{o: o, name: task}
	if o.mode == Prefixed {
		s.prefix = o.prefix(task)
	}
	if o.mode != Raw {
		s.shared[Stdout] = &lineWriter{s: s, st: Stdout}
		s.shared[Stderr] = &lineWriter{s: s, st: Stderr}
	}
	return s
}

// Name returns the task name the sink was made for.
func (s *Sink) Name() string {
	if s == nil {
		return ""
	}
	return s.name
}

// Stdout returns the sink's standard output writer, shared by everything
// that writes through it (give concurrent producers their own with
// Writer). In raw mode it is hazlua's stdout *os.File itself; on a nil
// sink, io.Discard.
func (s *Sink) Stdout() io.Writer { return s.stream(Stdout) }

// Stderr is like Stdout for standard error.
func (s *Sink) Stderr() io.Writer { return s.stream(Stderr) }

func (s *Sink) stream(st Stream) io.Writer {
	switch {
	case s == nil:
		return io.Discard
	case s.o.mode == Raw:
		return s.o.files[st]
	}
	return s.shared[st]
}

// Writer returns a writer of its own for one producer (one process's
// inherited stream) and a function to call when the producer is done,
// which flushes its final partial line. Lines of different writers never
// mix. In raw mode the writer is hazlua's *os.File itself (hand it to the
// child as its fd) and done does nothing. Never close the writer.
func (s *Sink) Writer(st Stream) (w io.Writer, done func()) {
	switch {
	case s == nil:
		return io.Discard, func() {}
	case s.o.mode == Raw:
		return s.o.files[st], func() {}
	}
	lw := &lineWriter{s: s, st: st}
	return lw, lw.flushPartial
}

// Close flushes the shared writers' final partial lines and, in grouped
// mode, writes the held output as one block per stream (stdout, then
// stderr). Output written after Close still goes out, unheld. Close is
// idempotent and always returns nil.
func (s *Sink) Close() error {
	if s == nil || s.o.mode == Raw {
		return nil
	}
	s.shared[Stdout].flushPartial()
	s.shared[Stderr].flushPartial()
	if s.o.mode != Grouped {
		return nil
	}
	s.gmu.Lock()
	defer s.gmu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	held := s.held.Load()
	if held == nil {
		return nil // nothing was written: nothing is held
	}
	o := s.o
	o.mu.Lock()
	if o.status.on && (held.groups[Stdout].size() > 0 || held.groups[Stderr].size() > 0) {
		o.clearStatusLocked()
		held.groups[Stdout].writeTo(o, Stdout)
		held.groups[Stderr].writeTo(o, Stderr)
		o.drawStatusLocked()
	} else {
		held.groups[Stdout].writeTo(o, Stdout)
		held.groups[Stderr].writeTo(o, Stderr)
	}
	o.mu.Unlock()
	held.groups[Stdout].release()
	held.groups[Stderr].release()
	return nil
}

// Tail returns the last lines (at most 10, each cut to 512 bytes) written
// to the sink, both streams in order of arrival, oldest first, without
// newlines. Nil in raw mode.
func (s *Sink) Tail() []string {
	if s == nil {
		return nil
	}
	st := s.held.Load()
	if st == nil {
		return nil
	}
	st.tmu.Lock()
	defer st.tmu.Unlock()
	n := min(st.tailN, tailLines)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for k := st.tailN - n; k < st.tailN; k++ {
		out = append(out, string(st.tail[k%tailLines]))
	}
	return out
}

// deliver takes a writer's gathered output: buf holds whole pieces,
// spans locate each piece's text (without prefix and newline) for the
// tail.
func (s *Sink) deliver(st Stream, buf []byte, spans [][2]int) {
	held := s.state()
	held.recordTail(buf, spans)
	o := s.o
	if o.mode == Grouped {
		s.gmu.Lock()
		defer s.gmu.Unlock()
		if !s.closed {
			held.groups[st].write(buf)
			return
		}
	}
	o.mu.Lock()
	o.emitLocked(st, buf)
	o.mu.Unlock()
}

func (st *sinkState) recordTail(buf []byte, spans [][2]int) {
	if len(spans) > tailLines {
		spans = spans[len(spans)-tailLines:]
	}
	st.tmu.Lock()
	for _, sp := range spans {
		line := buf[sp[0]:sp[1]]
		if len(line) > tailWidth {
			line = line[:tailWidth]
		}
		slot := &st.tail[st.tailN%tailLines]
		*slot = append((*slot)[:0], line...)
		st.tailN++
	}
	st.tmu.Unlock()
}

// lineWriter cuts one producer's bytes into lines and hands whole pieces
// to its sink. In prefixed mode every piece is "[task] text\n"; in grouped
// mode pieces are the bytes as written, except that a final partial line
// gets a newline.
type lineWriter struct {
	mu      sync.Mutex
	s       *Sink
	st      Stream
	partial []byte   // the current line's bytes not yet written out
	buf     []byte   // pieces gathered for the sink
	spans   [][2]int // text of each piece in buf
}

// Write implements io.Writer. It never fails: failures of hazlua's own
// output are reported by the Output.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.addPartial(p)
			break
		}
		w.addLine(p[:i])
		p = p[i+1:]
		if len(w.buf) >= flushAt {
			w.flush()
		}
	}
	w.flush()
	return n, nil
}

// addLine emits the current line, ended by seg and a newline.
func (w *lineWriter) addLine(seg []byte) {
	line := seg
	if len(w.partial) > 0 {
		w.partial = append(w.partial, seg...)
		line = w.partial
	}
	for len(line) > maxLine {
		cut := pieceEnd(line)
		w.emit(line[:cut], false)
		line = line[cut:]
	}
	w.emit(line, true)
	w.resetPartial()
}

// addPartial adds seg to the current line, emitting pieces while the line
// is longer than maxLine.
func (w *lineWriter) addPartial(seg []byte) {
	w.partial = append(w.partial, seg...)
	if len(w.partial) <= maxLine {
		return
	}
	rest := w.partial
	for len(rest) > maxLine {
		cut := pieceEnd(rest)
		w.emit(rest[:cut], false)
		rest = rest[cut:]
		if len(w.buf) >= flushAt {
			w.flush()
		}
	}
	n := copy(w.partial, rest)
	w.partial = w.partial[:n]
}

func (w *lineWriter) resetPartial() {
	if cap(w.partial) > 4*maxLine {
		w.partial = nil
		return
	}
	w.partial = w.partial[:0]
}

// emit adds one piece; newline says the line ended there in the input.
func (w *lineWriter) emit(text []byte, newline bool) {
	if rec := w.s.rec.Load(); rec != nil {
		rec.add(w.st, text, newline)
	}
	w.buf = append(w.buf, w.s.prefix...)
	start := len(w.buf)
	w.buf = append(w.buf, text...)
	w.spans = append(w.spans, [2]int{start, len(w.buf)})
	if newline || w.s.o.mode == Prefixed {
		w.buf = append(w.buf, '\n')
	}
}

func (w *lineWriter) flush() {
	if len(w.buf) == 0 {
		return
	}
	w.s.deliver(w.st, w.buf, w.spans)
	if cap(w.buf) > 2*flushAt {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	w.spans = w.spans[:0]
}

// flushPartial writes out the final partial line, newline-terminated.
func (w *lineWriter) flushPartial() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.emit(w.partial, true)
		w.resetPartial()
	}
	w.flush()
}

// pieceEnd returns where to cut a line longer than maxLine: at maxLine,
// moved back to the start of a UTF-8 sequence if that is within reach.
func pieceEnd(b []byte) int {
	cut := maxLine
	for k := 0; k < utf8.UTFMax-1 && !utf8.RuneStart(b[cut]); k++ {
		cut--
	}
	if !utf8.RuneStart(b[cut]) {
		return maxLine
	}
	return cut
}

// groupBuffer holds one stream of a task's grouped output: in memory up
// to spillAt, then in an unlinked temporary file.
type groupBuffer struct {
	mem  []byte
	file *os.File
	n    int64 // bytes in file
}

func (g *groupBuffer) size() int64 { return g.n + int64(len(g.mem)) }

func (g *groupBuffer) write(p []byte) {
	if g.file == nil && len(g.mem)+len(p) > spillAt {
		if f, err := os.CreateTemp("", "hazlua-output-*"); err == nil {
			os.Remove(f.Name())
			g.file = f
		}
	}
	if g.file != nil && len(g.mem) == 0 {
		n, err := g.file.Write(p)
		g.n += int64(n)
		if err == nil {
			return
		}
		p = p[n:] // the disk is full: keep the rest in memory
	} else if g.file != nil {
		// First spill: move what memory holds, then p.
		n, err := g.file.Write(g.mem)
		g.n += int64(n)
		if err == nil {
			g.mem = g.mem[:0]
			n, err = g.file.Write(p)
			g.n += int64(n)
			if err == nil {
				return
			}
			p = p[n:]
		} else {
			g.mem = g.mem[n:]
		}
	}
	g.mem = append(g.mem, p...)
}

// writeTo writes the held bytes to o's stream st. o.mu is held.
func (g *groupBuffer) writeTo(o *Output, st Stream) {
	if g.file != nil && g.n > 0 {
		if _, err := g.file.Seek(0, io.SeekStart); err == nil {
			chunk := make([]byte, 256<<10)
			for left := g.n; left > 0; {
				k, err := g.file.Read(chunk[:min(int64(len(chunk)), left)])
				o.writeLocked(st, chunk[:k])
				left -= int64(k)
				if err != nil || k == 0 {
					break
				}
			}
		}
	}
	o.writeLocked(st, g.mem)
}

// reader returns the held bytes, to be read before the next write.
func (g *groupBuffer) reader() io.Reader {
	mem := bytes.NewReader(g.mem)
	if g.file == nil {
		return mem
	}
	return io.MultiReader(io.NewSectionReader(g.file, 0, g.n), mem)
}

func (g *groupBuffer) release() {
	if g.file != nil {
		g.file.Close()
		g.file = nil
	}
	g.mem = nil
	g.n = 0
}
