package proc

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultGrace is the time between SIGTERM and SIGKILL when Config.Grace is 0.
const DefaultGrace = 5 * time.Second

// Config configures a Manager. The zero value is usable.
type Config struct {
	// Grace is the default time between SIGTERM and SIGKILL when a group is
	// terminated; 0 means DefaultGrace.
	Grace time.Duration
	// Jobs caps the groups started with Options.Job running at once; 0
	// means no cap.
	Jobs int
	// Stdin is what InInherit means; nil means os.Stdin.
	Stdin *os.File
	// TempDir is where large captures spill; "" means os.TempDir().
	TempDir string
}

// Manager starts process groups and owns them until they end. Every method
// is safe for use by many goroutines.
type Manager struct {
	cfg   Config
	slots *Slots

	mu     sync.Mutex
	groups map[*Group]struct{} // started, not yet done
	idle   chan struct{}       // closed when groups becomes empty; nil while empty

	fg chan struct{} // one foreground group at a time

	killed atomic.Bool // KillAll was called: no more grace periods
}

// NewManager returns a Manager. The first Start of any Manager also makes
// hazlua the child subreaper and starts the forking thread and the orphan
// reaper, which live as long as the process (a script that starts nothing
// pays for none of it).
func NewManager(cfg Config) *Manager {
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	return &Manager{
		cfg:    cfg,
		slots:  NewSlots(cfg.Jobs),
		groups: make(map[*Group]struct{}),
		fg:     make(chan struct{}, 1),
	}
}

// Grace returns the manager's default grace period.
func (m *Manager) Grace() time.Duration { return m.cfg.Grace }

// Slots returns the job slots that Options.Job takes from.
func (m *Manager) Slots() *Slots { return m.slots }

func (m *Manager) add(g *Group) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.groups[g] = struct{}{}
}

func (m *Manager) remove(g *Group) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.groups, g)
	if len(m.groups) == 0 && m.idle != nil {
		close(m.idle)
		m.idle = nil
	}
}

func (m *Manager) live() []*Group {
	m.mu.Lock()
	defer m.mu.Unlock()
	gs := make([]*Group, 0, len(m.groups))
	for g := range m.groups {
		gs = append(gs, g)
	}
	return gs
}

// TerminateAll terminates every live group (SIGTERM, SIGCONT, grace,
// SIGKILL); their results say Cancelled. It does not wait.
func (m *Manager) TerminateAll() {
	for _, g := range m.live() {
		g.terminate(termCancel)
	}
}

// KillAll sends SIGKILL to every live group at once, and to every orphan
// hazlua adopted.
func (m *Manager) KillAll() {
	m.killed.Store(true)
	for _, g := range m.live() {
		g.terminate(termCancel)
		g.kill()
	}
	killOrphans(true, nil)
}

// Wait waits until every group the manager started has ended, or ctx is
// done.
func (m *Manager) Wait(ctx context.Context) error {
	m.mu.Lock()
	if len(m.groups) == 0 {
		m.mu.Unlock()
		return nil
	}
	if m.idle == nil {
		m.idle = make(chan struct{})
	}
	idle := m.idle
	m.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown ends everything: it terminates every live group, waits for them,
// then terminates the orphans hazlua adopted (daemons that left their
// group), with the same grace, until hazlua has no child left. After it
// returns, no process started through any Manager is running.
func (m *Manager) Shutdown() {
	m.TerminateAll()
	defer m.slots.closeJobserver()
	if !system.started.Load() {
		_ = m.Wait(context.Background())
		return
	}
	// While the groups end, terminate each orphan as it appears: a daemon
	// can hold a group's output pipe open, and the group waits for that
	// (up to the grace) before it ends.
	ctx, stop := context.WithCancel(context.Background())
	waited := make(chan struct{})
	go func() { _ = m.Wait(ctx); close(waited) }()
	termed := map[int]bool{}
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		if m.killed.Load() {
			killOrphans(true, nil)
		} else {
			killOrphans(false, termed)
		}
		select {
		case <-waited:
			stop()
			sweepOrphans(m.cfg.Grace, m.killed.Load)
			return
		case <-time.After(delay):
		}
	}
}
