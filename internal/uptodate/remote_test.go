package uptodate

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/remotecache"
)

// memServer is a Bazel HTTP cache in memory: PUT stores, GET and HEAD
// serve. hold, if set, is called before a request of that method is
// answered.
type memServer struct {
	mu    sync.Mutex
	files map[string][]byte
	log   []string // "METHOD /path"
	hold  map[string]func(r *http.Request)
}

func startMemServer(t *testing.T) (*memServer, string) {
	m := &memServer{files: map[string][]byte{}, hold: map[string]func(*http.Request){}}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, srv.URL
}

func (m *memServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.log = append(m.log, r.Method+" "+r.URL.Path)
	hold := m.hold[r.Method]
	m.mu.Unlock()
	if hold != nil {
		hold(r)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		m.files[r.URL.Path] = b
		w.WriteHeader(http.StatusCreated)
	case http.MethodGet, http.MethodHead:
		b, ok := m.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}
}

func (m *memServer) requests(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, l := range m.log {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func remoteClient(t *testing.T, url string, o remotecache.Options) *remotecache.Client {
	o.URL = url
	c, err := remotecache.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRemoteRoundTrip: a task whose output is a directory (a file, an
// executable, a subdirectory, a symlink) and whose log was recorded goes
// up from one project and comes down whole into another with an empty
// local cache; then that project's local cache answers, not the server.
func TestRemoteRoundTrip(t *testing.T) {
	m, url := startMemServer(t)
	sp := &Spec{Name: "gen", Inputs: []string{"in.txt"}, Outputs: []string{"build"}, Source: "f"}
	body := func(p *project) func() {
		return func() {
			p.write("build/a.txt", "a")
			p.write("build/sub/tool", "#!/bin/sh\n")
			os.Chmod("build/sub/tool", 0o755)
			os.Symlink("a.txt", "build/link")
		}
	}

	one := newProject(t)
	one.cfg.Remote = remoteClient(t, url, remotecache.Options{})
	one.s = Open(one.cfg)
	one.write("in.txt", "input")
	one.build(sp, nil, body(one))
	if err := one.s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(m.requests("PUT /ac/")) != 1 {
		t.Fatalf("uploads: %q", m.requests("PUT "))
	}

	two := newProject(t)
	two.cfg.Remote = remoteClient(t, url, remotecache.Options{ReadOnly: true})
	two.s = Open(two.cfg)
	two.write("in.txt", "input")
	c := two.check(sp, nil, Restore, ReasonNeverRan+"; "+ReasonRemote)
	log, err := two.s.Restore(sp, c)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(log)
	log.Close()
	if string(got) != "log of gen" {
		t.Errorf("log %q", got)
	}
	if two.read("build/a.txt") != "a" || two.read("build/sub/tool") != "#!/bin/sh\n" {
		t.Error("files not restored")
	}
	if fi, err := os.Stat("build/sub/tool"); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("executable bit lost: %v", fi)
	}
	if target, err := os.Readlink("build/link"); err != nil || target != "a.txt" {
		t.Errorf("symlink: %q, %v", target, err)
	}
	gets := len(m.requests("GET "))
	if err := two.s.Close(); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll("build")
	two.s = Open(two.cfg)
	two.check(sp, nil, Restore, "output build missing")
	if n := len(m.requests("GET ")); n != gets {
		t.Errorf("a local hit asked the server %d times", n-gets)
	}
	if len(two.warnings)+len(one.warnings) > 0 {
		t.Errorf("warnings: %q %q", one.warnings, two.warnings)
	}
}

// TestRemoteFlushTimeout: Close waits for the uploads at most the flush
// timeout, then abandons them (one warning) before any action result is
// put.
func TestRemoteFlushTimeout(t *testing.T) {
	m, url := startMemServer(t)
	m.hold[http.MethodHead] = func(r *http.Request) {
		select { // a server far slower than the flush timeout, still within the request timeout
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}
	p := newProject(t)
	p.cfg.Remote = remoteClient(t, url, remotecache.Options{Timeout: time.Minute})
	p.cfg.RemoteFlushTimeout = 100 * time.Millisecond
	p.s = Open(p.cfg)
	p.write("src/a.c", "int a;")
	p.build(compile(), nil, p.compileBody())
	if err := p.s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(p.warnings) != 1 || !strings.Contains(p.warnings[0], "uploads not finished after 100ms") {
		t.Fatalf("warnings %q", p.warnings)
	}
	if puts := m.requests("PUT /ac/"); len(puts) > 0 {
		t.Fatalf("an action result was put: %q", puts)
	}
}

// TestRemoteBadEntry: an action result that is not protobuf, one that
// names no hazlua entry, and an entry for another key are misses; only
// the first and the last warn.
func TestRemoteBadEntry(t *testing.T) {
	m, url := startMemServer(t)
	p := newProject(t)
	p.cfg.Remote = remoteClient(t, url, remotecache.Options{})
	p.s = Open(p.cfg)
	p.write("src/a.c", "int a;")
	sp := compile()
	key := p.s.Check(sp, nil).sum
	for _, tc := range []struct {
		name string
		ac   []byte
		warn string
	}{
		{"garbage", []byte("{not protobuf"), "action result"},
		{"another tool's", (&remotecache.ActionResult{ExitCode: 1}).Encode(), ""},
	} {
		m.mu.Lock()
		m.files["/ac/"+key.String()] = tc.ac
		m.mu.Unlock()
		p.warnings = nil
		p.s.warned = map[string]bool{}
		p.check(sp, nil, Run, ReasonNeverRan)
		if tc.warn == "" && len(p.warnings) > 0 || tc.warn != "" && (len(p.warnings) != 1 || !strings.Contains(p.warnings[0], tc.warn)) {
			t.Errorf("%s: warnings %q", tc.name, p.warnings)
		}
	}
}
