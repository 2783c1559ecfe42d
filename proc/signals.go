package proc

import (
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// signalNames maps signals to their lower-case names without "SIG".
var signalNames = map[syscall.Signal]string{
	unix.SIGHUP: "hup", unix.SIGINT: "int", unix.SIGQUIT: "quit", unix.SIGILL: "ill",
	unix.SIGTRAP: "trap", unix.SIGABRT: "abrt", unix.SIGBUS: "bus", unix.SIGFPE: "fpe",
	unix.SIGKILL: "kill", unix.SIGUSR1: "usr1", unix.SIGSEGV: "segv", unix.SIGUSR2: "usr2",
	unix.SIGPIPE: "pipe", unix.SIGALRM: "alrm", unix.SIGTERM: "term", unix.SIGSTKFLT: "stkflt",
	unix.SIGCHLD: "chld", unix.SIGCONT: "cont", unix.SIGSTOP: "stop", unix.SIGTSTP: "tstp",
	unix.SIGTTIN: "ttin", unix.SIGTTOU: "ttou", unix.SIGURG: "urg", unix.SIGXCPU: "xcpu",
	unix.SIGXFSZ: "xfsz", unix.SIGVTALRM: "vtalrm", unix.SIGPROF: "prof", unix.SIGWINCH: "winch",
	unix.SIGIO: "io", unix.SIGPWR: "pwr", unix.SIGSYS: "sys",
}

// SignalName returns sig's lower-case name without "SIG" ("term",
// "segv"), or "sigN" for a signal without a name (real-time signals).
func SignalName(sig syscall.Signal) string {
	if n, ok := signalNames[sig]; ok {
		return n
	}
	return "sig" + itoa(int(sig))
}

// ParseSignal returns the signal named name ("term", "SIGTERM", "TERM");
// ok is false for an unknown name.
func ParseSignal(name string) (syscall.Signal, bool) {
	n := strings.TrimPrefix(strings.ToLower(name), "sig")
	for sig, s := range signalNames {
		if s == n {
			return sig, true
		}
	}
	return 0, false
}

func upper(s string) string { return strings.ToUpper(s) }

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
