package runner

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"sync"
)

// recordMagic starts a recording; its last byte is the format version.
const recordMagic = "hazlua output\x00\x01"

// recorder keeps a copy of a sink's output for the cache: each piece the
// sink's line writers emit, with its stream and whether the line ended
// there, in order, in memory and then in an unlinked file (groupBuffer).
type recorder struct {
	mu     sync.Mutex
	buf    groupBuffer
	hdr    []byte // scratch
	pieces int
}

// add appends one piece.
func (r *recorder) add(st Stream, text []byte, newline bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	flags := byte(st)
	if newline {
		flags |= 2
	}
	r.hdr = binary.AppendUvarint(append(r.hdr[:0], flags), uint64(len(text)))
	r.buf.write(r.hdr)
	r.buf.write(text)
	r.pieces++
}

// Record makes the sink keep a copy of everything written through it
// from now on, for Recording. In raw mode nothing passes through the
// sink and nothing is recorded. Call it before anything is written.
func (s *Sink) Record() {
	if s == nil || s.o.mode == Raw {
		return
	}
	r := &recorder{}
	r.buf.write([]byte(recordMagic))
	s.rec.Store(r)
}

// TakeRecording ends the recording started by Record and returns it, to
// be replayed by Replay, with the function that frees it (its spill file
// too); ok is false when nothing was recorded (no Record, raw mode, or a
// task that printed nothing). Call it after Close: what is written later
// is not recorded.
func (s *Sink) TakeRecording() (r io.Reader, release func(), ok bool) {
	if s == nil {
		return nil, nil, false
	}
	rec := s.rec.Swap(nil)
	if rec == nil {
		return nil, nil, false
	}
	rec.mu.Lock() // wait for an add in progress
	defer rec.mu.Unlock()
	if rec.pieces == 0 {
		rec.buf.release()
		return nil, nil, false
	}
	return rec.buf.reader(), rec.buf.release, true
}

// errBadRecording is Replay's error for data that is not a recording.
var errBadRecording = errors.New("runner: not a recorded output")

// Replay writes a recording (Recording's format) through the sink, line
// by line as the task once wrote it, so that a restored task's output
// looks like a fresh run's in every mode. It stops at the first
// malformed record.
func (s *Sink) Replay(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(recordMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != recordMagic {
		return errBadRecording
	}
	text := make([]byte, 0, 4<<10)
	for {
		flags, err := br.ReadByte()
		if err == io.EOF {
			return nil
		}
		n, err2 := binary.ReadUvarint(br)
		if err != nil || err2 != nil || flags > 3 || n > maxLine {
			return errBadRecording
		}
		text = slices.Grow(text[:0], int(n)+1)[:n]
		if _, err := io.ReadFull(br, text); err != nil {
			return errBadRecording
		}
		if flags&2 != 0 {
			text = append(text, '\n')
		}
		s.stream(Stream(flags & 1)).Write(text)
	}
}
