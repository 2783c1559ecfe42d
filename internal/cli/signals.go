package cli

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// stoppable is what the stop protocol needs of a run. *luaapi.Runtime
// implements it; the tests use a fake.
type stoppable interface {
	// Stop cancels the run because of sig and terminates every process
	// group; it does not wait.
	Stop(sig syscall.Signal)
	// Kill sends SIGKILL to every process group at once.
	Kill()
	// Loading reports whether the script is still being parsed (nothing
	// has started).
	Loading() bool
	// Grace is the SIGTERM → SIGKILL grace period.
	Grace() time.Duration
	// Shutdown ends every process and waits for them.
	Shutdown()
	// Notify writes one of hazlua's own lines to stderr, around the
	// status line; it may block while stderr is full.
	Notify(line string)
}

// runnable is a stoppable run.
type runnable interface {
	stoppable
	// Run runs the script; it returns nil or an *luaapi.Error.
	Run() error
}

// timing holds the bounds of the stop protocol.
type timing struct {
	// slack is how long after the grace period that follows the first
	// signal the run is left behind if it has not ended.
	slack time.Duration
	// shutdownWait bounds the wait for Shutdown before leaving the run
	// behind.
	shutdownWait time.Duration
	// notifyWait bounds the wait for the stopping lines at the end.
	notifyWait time.Duration
}

var defaultTiming = timing{slack: 2 * time.Second, shutdownWait: 2 * time.Second, notifyWait: time.Second}

// notifySignals catches the signals that stop a run, SIGINT, SIGTERM,
// SIGQUIT and SIGHUP, and returns the channel they arrive on and a
// function that stops catching them. SIGHUP that was ignored when hazlua
// started stays ignored (nohup); it is still caught, so that children
// start with its default disposition. SIGPIPE is caught so that a write
// to a closed stdout or stderr is an EPIPE error, which stops the run
// (exit 141), not a death by signal; SIGTTOU and SIGTTIN are caught so
// that hazlua is never stopped by its terminal. Those stay caught after
// stop. (The signal package never blocks on a full channel, so nobody
// needs to read the ignored ones.)
func notifySignals() (sigs <-chan os.Signal, stop func()) {
	c := make(chan os.Signal, 4)
	ignored := make(chan os.Signal, 1)
	stopping := []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT}
	if signal.Ignored(syscall.SIGHUP) {
		signal.Notify(ignored, syscall.SIGHUP)
	} else {
		stopping = append(stopping, syscall.SIGHUP)
	}
	signal.Notify(ignored, syscall.SIGPIPE, syscall.SIGTTOU, syscall.SIGTTIN)
	signal.Notify(c, stopping...)
	return c, func() { signal.Stop(c) }
}

// supervise runs rt, stopping it on the signals that arrive on sigs (see
// watch), reports its error on stderr and returns the exit status.
func supervise(rt runnable, sigs <-chan os.Signal, stderr errWriter, tm timing) int {
	forced := make(chan int, 1)
	stop := watch(rt, sigs, forced, tm)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- rt.Run() }()
	select {
	case err := <-done:
		return report(stderr, err)
	case code := <-forced:
		// The run is stuck (in a write to a full stdout, say) and every
		// process is dead: leave it behind.
		return code
	}
}

// watch runs the stop protocol (docs/design.md, "Stopping") on a goroutine
// of its own until stop is called: the first signal from sigs stops rt
// (exit 128+n) and says so on stderr, each later one kills every process
// group at once.
//
// If the run has not ended tm.slack after the grace period that follows
// the first signal, every process is killed and forced gets the exit
// status: the script may be stuck where no cancellation reaches, such as
// a write to a full pipe. While the script is still being parsed (which
// cannot be interrupted, and nothing has started), forced gets it at once.
//
// The stopping lines go through rt.Notify, so that they clear the status
// line, from a goroutine of their own, so that a full stderr cannot keep
// the handler from stopping the run; stop waits tm.notifyWait for them.
// That goroutine starts with the first line: a run that gets no signal
// starts no writer and does not wait for one.
func watch(rt stoppable, sigs <-chan os.Signal, forced chan<- int, tm timing) (stop func()) {
	var msgs chan string      // made by the handler's first say; read by stop after handlerDone
	var written chan struct{} // closed when the writer has written every line
	say := func(format string, a ...any) {
		if msgs == nil {
			msgs, written = make(chan string, 4), make(chan struct{})
			go func() {
				defer close(written)
				for m := range msgs {
					rt.Notify(m)
				}
			}()
		}
		select {
		case msgs <- fmt.Sprintf(format, a...):
		default: // the writer is stuck; the stop goes on regardless
		}
	}

	done := make(chan struct{})
	handlerDone := make(chan struct{})
	var timer *time.Timer // set by the handler; read by stop after handlerDone
	go func() {
		defer close(handlerDone)
		first := true
		for {
			select {
			case s := <-sigs:
				sig := s.(syscall.Signal)
				// Stop first, then say so: a write to a full stderr
				// must not keep the processes running.
				if !first {
					rt.Kill()
					say("hazlua: received SIG%s again, killing every process now\n", strings.ToUpper(signalName(sig)))
					continue
				}
				first = false
				code := SignalStatus(sig)
				rt.Stop(sig)
				if rt.Loading() {
					forced <- code
					continue
				}
				say("hazlua: received SIG%s, stopping; waiting up to %s for processes to exit (again to kill them now)\n",
					strings.ToUpper(signalName(sig)), rt.Grace())
				timer = time.AfterFunc(rt.Grace()+tm.slack, func() {
					rt.Kill()
					// Every process is SIGKILLed and reaped well within
					// the bound; what may stay stuck is a copy into a
					// full pipe, which nothing needs any more.
					ended := make(chan struct{})
					go func() { rt.Shutdown(); close(ended) }()
					select {
					case <-ended:
					case <-time.After(tm.shutdownWait):
					}
					forced <- code
				})
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-handlerDone // no say after this
		if timer != nil {
			timer.Stop()
		}
		if msgs == nil {
			return // nothing was said
		}
		close(msgs)
		select {
		case <-written:
		case <-time.After(tm.notifyWait):
		}
	}
}

// signalName returns "int", "term", "hup" or "quit", else the number.
func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "int"
	case syscall.SIGTERM:
		return "term"
	case syscall.SIGHUP:
		return "hup"
	case syscall.SIGQUIT:
		return "quit"
	}
	return fmt.Sprint(int(sig))
}
