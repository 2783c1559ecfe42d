package runner

import (
	"bytes"
	"container/list"
	"strconv"
	"time"
	"unicode/utf8"
)

const (
	// defaultStatusWidth is the terminal width assumed until
	// SetStatusWidth says otherwise.
	defaultStatusWidth = 80
	// statusInterval is the shortest time between two redraws caused by
	// tasks starting and ending (output redraws it at once).
	statusInterval = 100 * time.Millisecond
	clearLine      = "\r\x1b[K"
)

// statusLine is the bottom line "[done/total] running: a, b" on stderr.
// It is guarded by Output.mu.
type statusLine struct {
	enabled bool // chosen at NewOutput; never changes
	on      bool // a run is in progress
	shown   bool // the line is on the screen
	width   int
	total   int
	done    int
	cached  int       // of done, restored from the cache
	running list.List // names, in start order
	elems   map[string]*list.Element
	dirty   bool
	last    time.Time
	timer   *time.Timer
	buf     []byte
}

// SetStatusWidth sets the terminal width the status line must fit in
// (default 80). Call it again when the terminal is resized.
func (o *Output) SetStatusWidth(cols int) {
	if o == nil || cols < 1 {
		return
	}
	o.mu.Lock()
	o.status.width = cols
	o.mu.Unlock()
}

// begin starts the status line of a run of total tasks.
func (o *Output) begin(total int) {
	if o == nil || !o.status.enabled {
		return
	}
	o.mu.Lock()
	st := &o.status
	st.on = true
	st.total, st.done, st.cached = total, 0, 0
	st.running.Init()
	st.elems = make(map[string]*list.Element)
	o.clearStatusLocked()
	o.drawStatusLocked()
	o.mu.Unlock()
}

// end removes the status line at the end of a run.
func (o *Output) end() {
	if o == nil || !o.status.enabled {
		return
	}
	o.mu.Lock()
	st := &o.status
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
	o.clearStatusLocked()
	st.on = false
	st.running.Init()
	st.elems = nil
	o.mu.Unlock()
}

func (o *Output) taskStarted(name string) {
	if o == nil || !o.status.enabled {
		return
	}
	o.mu.Lock()
	if st := &o.status; st.on {
		st.elems[name] = st.running.PushBack(name)
		o.statusChangedLocked()
	}
	o.mu.Unlock()
}

func (o *Output) taskFinished(name string, cached bool) {
	if o == nil || !o.status.enabled {
		return
	}
	o.mu.Lock()
	if st := &o.status; st.on {
		if e, ok := st.elems[name]; ok {
			st.running.Remove(e)
			delete(st.elems, name)
		}
		st.done++
		if cached {
			st.cached++
		}
		o.statusChangedLocked()
	}
	o.mu.Unlock()
}

// statusChangedLocked redraws now, or soon if it was redrawn very
// recently.
func (o *Output) statusChangedLocked() {
	st := &o.status
	st.dirty = true
	wait := statusInterval - time.Since(st.last)
	if wait <= 0 {
		o.clearStatusLocked()
		o.drawStatusLocked()
		return
	}
	if st.timer == nil {
		st.timer = time.AfterFunc(wait, o.statusTick)
	}
}

func (o *Output) statusTick() {
	o.mu.Lock()
	st := &o.status
	st.timer = nil
	if st.on && st.dirty {
		o.clearStatusLocked()
		o.drawStatusLocked()
	}
	o.mu.Unlock()
}

// clearStatusLocked erases the status line if it is shown.
func (o *Output) clearStatusLocked() {
	if o.status.shown {
		o.status.shown = false
		o.writeLocked(Stderr, []byte(clearLine))
	}
}

// drawStatusLocked writes the status line at the start of an empty line.
func (o *Output) drawStatusLocked() {
	st := &o.status
	if !st.on {
		return
	}
	st.buf = o.renderStatus(st.buf[:0])
	o.writeLocked(Stderr, st.buf)
	st.shown = true
	st.dirty = false
	st.last = time.Now()
}

// renderStatus appends "[done/total] running: a, b" ("[done/total, n
// cached] ..." once tasks were restored from the cache), cut to fit in one
// line less than the width (so the terminal never wraps it).
func (o *Output) renderStatus(b []byte) []byte {
	st := &o.status
	limit := max(st.width-1, 10)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(st.done), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(st.total), 10)
	if st.cached > 0 {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(st.cached), 10)
		b = append(b, " cached"...)
	}
	b = append(b, ']')
	sep := " running: "
	for e := st.running.Front(); e != nil; e = e.Next() {
		b = append(b, sep...)
		b = append(b, e.Value.(string)...)
		sep = ", "
		if utf8.RuneCount(b) > limit {
			break
		}
	}
	if utf8.RuneCount(b) > limit {
		// Cut at a rune boundary, leaving room for the ellipsis.
		n, cut := 0, 0
		for cut < len(b) && n < limit-1 {
			_, size := utf8.DecodeRune(b[cut:])
			cut += size
			n++
		}
		b = bytes.TrimRight(b[:cut], ", ")
		b = append(b, "…"...)
	}
	return b
}
