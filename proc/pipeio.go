package proc

import (
	"context"
	"os"
	"time"
)

// ReadContext reads from f as f.Read does, but gives up when ctx is done
// first: it then returns what it read (nothing, for a pipe) and ctx.Err().
// It returns ctx.Err() at once when ctx is already done.
//
// f must be in the runtime's poller, as the pipes from os.Pipe and every
// pipe end proc hands out are: a done context interrupts the read through a
// read deadline in the past, which ReadContext clears before it returns, so
// a later read is not affected. Another read of f at the same time would be
// interrupted too: the caller serializes them.
func ReadContext(ctx context.Context, f *os.File, b []byte) (int, error) {
	return withDeadline(ctx, f.SetReadDeadline, func() (int, error) { return f.Read(b) })
}

// WriteStringContext writes all of s to f as f.WriteString does, but gives
// up when ctx is done first: it then returns the number of bytes written
// and ctx.Err(). It returns ctx.Err() at once when ctx is already done. f
// must be in the runtime's poller; the write deadline it uses is cleared
// as ReadContext's read deadline is.
func WriteStringContext(ctx context.Context, f *os.File, s string) (int, error) {
	return withDeadline(ctx, f.SetWriteDeadline, func() (int, error) { return f.WriteString(s) })
}

// withDeadline runs io, interrupting it with a deadline in the past when
// ctx is done, and clears that deadline again.
func withDeadline(ctx context.Context, setDeadline func(time.Time) error, io func() (int, error)) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = setDeadline(time.Unix(1, 0))
		close(interrupted)
	})
	n, err := io()
	if !stop() {
		// ctx is done: the deadline is set, or about to be.
		<-interrupted
		_ = setDeadline(time.Time{})
		if err != nil {
			err = ctx.Err()
		}
	}
	return n, err
}
