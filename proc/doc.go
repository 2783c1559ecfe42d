// Package proc starts and supervises hazlua's child processes. It knows
// nothing of Lua.
//
// Every Start creates one process group, led by its first process: a single
// command, or every stage of a pipeline. Signals, timeouts and cancellation
// act on the whole group, so grandchildren are reached. A Manager owns every
// group it starts:
//
//   - It learns of an exit through a pidfd and waitid(WNOWAIT), terminates
//     what is left of the group, and only then reaps, so a process group id
//     is never reused under it.
//   - It is the child subreaper (PR_SET_CHILD_SUBREAPER): orphans of its
//     children come back to it, are reaped, and are terminated on Shutdown.
//   - It forks from one locked OS thread that never exits, so the
//     parent-death signal (SIGKILL) fires only when hazlua itself dies.
//   - It caps the number of running jobs (Slots).
//
// Output is never read into memory more than once: children write straight
// to files and pipes handed to them as file descriptors; captured output is
// drained concurrently from both streams into a Capture that spills to an
// unlinked temporary file past a few MiB.
//
// proc is Linux only: it relies on pidfds, waitid(P_PIDFD), the child
// subreaper and /proc.
package proc
