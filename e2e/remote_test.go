package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/testutil"
)

// End-to-end tests of the remote cache (docs/api.md, "The remote
// cache"): checkouts in separate directories, each with its own local
// cache, share results through a real nginx serving the Bazel HTTP cache
// protocol with WebDAV; faults are made by killing the server, by
// damaging its files and by a proxy that cuts or stalls its answers.

// remoteProject is a checkout of the test project using the remote cache
// at url (and its own local cache, .haz/cache).
func remoteProject(t *testing.T, url string, env ...string) *project {
	p := newProject(t)
	p.env = append([]string{"HAZLUA_REMOTE_CACHE=" + url}, env...)
	return p
}

// remoteWarnings returns the warning lines about the remote cache.
func remoteWarnings(r *result) []string {
	var out []string
	for _, l := range r.stderr {
		if strings.HasPrefix(l, "hazlua: warning:") && strings.Contains(l, "remote cache") {
			out = append(out, l)
		}
	}
	return out
}

// checkBuilt fails unless the project's outputs are those of a build.
func checkBuilt(t *testing.T, p *project) {
	t.Helper()
	if got, want := p.read("build/app"), "INT A;\nINT B;\n"; got != want {
		t.Fatalf("build/app = %q, want %q", got, want)
	}
	if got := p.read("build/gen.h"); got != "#define GEN 1\n" {
		t.Fatalf("build/gen.h = %q", got)
	}
}

// checkLocalCache fails unless every blob of the project's local cache
// hashes to its name and no temporary file is left: no partial or wrong
// download was kept.
func checkLocalCache(t *testing.T, p *project) {
	t.Helper()
	blobs, _ := filepath.Glob(p.path(".haz/cache/blobs/*"))
	for _, b := range blobs {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != filepath.Base(b) {
			t.Errorf("local blob %s does not match its hash", filepath.Base(b))
		}
	}
	if tmp, _ := filepath.Glob(p.path(".haz/cache/tmp/*")); len(tmp) > 0 {
		t.Errorf("temporary files left in the local cache: %q", tmp)
	}
}

// puts returns the PUT requests the server got.
func puts(n *testutil.Nginx) []string {
	var out []string
	for _, r := range n.Requests() {
		if strings.HasPrefix(r, "PUT ") {
			out = append(out, r)
		}
	}
	return out
}

// TestRemoteShared: a second checkout, with its own local cache, is
// restored whole from what the first uploaded; then it is up to date,
// and a third restores from its local cache after a clean.
func TestRemoteShared(t *testing.T) {
	t.Parallel()
	n := testutil.StartNginx(t, nil)
	one, two := remoteProject(t, n.URL), remoteProject(t, n.URL)
	first := one.ok(allTasks)
	if ws := remoteWarnings(first); len(ws) > 0 {
		t.Fatalf("warnings: %q", ws)
	}
	if len(puts(n)) == 0 {
		t.Fatal("nothing was uploaded")
	}
	if acs, _ := filepath.Glob(filepath.Join(n.Store, "ac", "*")); len(acs) != len(allTasks) {
		t.Errorf("%d action results on the server, want one per task (%d)", len(acs), len(allTasks))
	}
	r := two.ok(nil)
	for _, task := range []string{"gen", "build/a.o", "build/b.o", "link"} {
		if want := "will be restored from the cache (never ran; found in the remote cache)"; r.why[task] != want {
			t.Errorf("second checkout: %s: %q, want %q", task, r.why[task], want)
		}
	}
	checkBuilt(t, two)
	checkLocalCache(t, two)
	// The restored tasks replay what the first run printed.
	if !containsLine(r.stdout, "[build/a.o] compiling src/a.c") {
		t.Errorf("replayed output missing: %q", r.stdout)
	}
	two.ok(nil) // up to date
	before := len(n.Requests())
	os.RemoveAll(two.path("build"))
	r = two.ok(nil) // restored from the local cache: the server is not asked
	if r.why["gen"] != "will be restored from the cache (output build/gen.h missing)" {
		t.Errorf("after removing build: gen: %q", r.why["gen"])
	}
	if after := len(n.Requests()); after != before {
		t.Errorf("a local hit made %d requests", after-before)
	}
	checkBuilt(t, two)
}

func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// TestRemoteReadOnly: a read-only checkout restores from the server and
// uploads nothing, by flag or by environment.
func TestRemoteReadOnly(t *testing.T) {
	t.Parallel()
	n := testutil.StartNginx(t, nil)
	ro := remoteProject(t, n.URL)
	ro.ok(allTasks, "--remote-cache-read-only")
	ro2 := remoteProject(t, n.URL, "HAZLUA_REMOTE_CACHE_READ_ONLY=1")
	ro2.ok(allTasks)
	if p := puts(n); len(p) > 0 {
		t.Fatalf("read-only runs uploaded: %q", p)
	}
	if len(n.Requests()) == 0 {
		t.Fatal("read-only runs did not look up the server")
	}
	remoteProject(t, n.URL).ok(allTasks) // a writer
	uploaded := len(puts(n))
	reader := remoteProject(t, n.URL)
	r := reader.ok(nil, "--remote-cache-read-only")
	if r.why["link"] != "will be restored from the cache (never ran; found in the remote cache)" {
		t.Errorf("read-only reader: link: %q", r.why["link"])
	}
	checkBuilt(t, reader)
	// A read-only run stores locally (and does not upload) what it runs.
	reader.write("src/a.c", "int a2;\n")
	reader.ok([]string{"build/a.o", "link", "test"}, "--remote-cache-read-only")
	if len(puts(n)) != uploaded {
		t.Fatal("a read-only run uploaded")
	}
}

// killLua is the project with a task "stop", after gen and before the
// compiles, that kills the server ($NGINX_PID, when set) and waits until
// it is gone: the server dies in the middle of the run, at a known point.
var killLua = strings.Replace(strings.Replace(projectLua,
	`haz.task(obj, {deps = {"gen"}`, `haz.task(obj, {deps = {"gen", "stop"}`, 1),
	`local objs, compiles = {}, {}`,
	`haz.task("stop", {deps = {"gen"}, run = function()
  haz.run{"sh", "-c", 'if [ -n "$NGINX_PID" ]; then kill -9 $NGINX_PID; while kill -0 $NGINX_PID 2>/dev/null; do sleep 0.01; done; fi'}
end})
local objs, compiles = {}, {}`, 1)

// TestRemoteServerKilled: the server dies in the middle of a run, after
// a restore from it (then lookups fail) and after an upload was queued
// (then uploads fail): one warning line, and the build goes on locally.
func TestRemoteServerKilled(t *testing.T) {
	t.Parallel()
	newKillProject := func(url string, env ...string) *project {
		p := remoteProject(t, url, env...)
		p.write("build.lua", killLua)
		return p
	}
	for _, tc := range []struct {
		name     string
		populate bool // a first checkout fills the server
		ran      []string
	}{
		{"after a restore", true, []string{"build/a.o", "build/b.o", "link", "test"}},
		{"while uploading", false, allTasks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := testutil.StartNginx(t, nil)
			if tc.populate {
				newKillProject(n.URL, "NGINX_PID=").ok(allTasks)
			}
			p := newKillProject(n.URL, "NGINX_PID="+strconv.Itoa(n.Pid()))
			r := p.ok(tc.ran)
			if tc.populate && r.why["gen"] != "will be restored from the cache (never ran; found in the remote cache)" {
				t.Errorf("gen: %q", r.why["gen"])
			}
			// A lookup after the kill is refused; an upload in flight at
			// the kill may fail first, with a reset or an EOF.
			if ws := remoteWarnings(r); len(ws) != 1 || !strings.Contains(ws[0], ": going on without") {
				t.Fatalf("want one warning about the dead server, got %q", ws)
			}
			checkBuilt(t, p)
			checkLocalCache(t, p)
			p.ok(nil) // up to date, and the dead server is one more warning, not a failure
		})
	}
}

// TestRemoteCorrupt: blobs the server damaged on disk are a miss and one
// warning; nothing wrong reaches the outputs or the local cache.
func TestRemoteCorrupt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		all  bool // the entries' blobs too, not only the outputs'
	}{{"outputs", false}, {"everything", true}} {
		t.Run(tc.name, func(t *testing.T) {
			n := testutil.StartNginx(t, nil)
			remoteProject(t, n.URL).ok(allTasks)
			blobs, _ := filepath.Glob(filepath.Join(n.Store, "cas", "*"))
			flipped := 0
			for _, b := range blobs {
				data, err := os.ReadFile(b)
				if err != nil {
					t.Fatal(err)
				}
				if len(data) == 0 || (!tc.all && bytes.HasPrefix(data, []byte(`{"version"`))) {
					continue
				}
				data[len(data)/2] ^= 0x20
				if err := os.WriteFile(b, data, 0o644); err != nil {
					t.Fatal(err)
				}
				flipped++
			}
			if flipped == 0 {
				t.Fatal("no blob to damage")
			}
			p := remoteProject(t, n.URL)
			r := p.ok(allTasks)
			if ws := remoteWarnings(r); len(ws) != 1 || !strings.Contains(ws[0], "does not match its hash") {
				t.Fatalf("want one warning about a damaged blob, got %q", ws)
			}
			checkBuilt(t, p)
			checkLocalCache(t, p)
			// That run put the damaged blobs again: the next checkout
			// restores everything without a warning.
			q := remoteProject(t, n.URL)
			r = q.ok(nil)
			if ws := remoteWarnings(r); len(ws) > 0 {
				t.Fatalf("after the repair: %q", ws)
			}
			checkBuilt(t, q)
		})
	}
}

// faultyProxy is a server in front of upstream that passes every request
// through, except the downloads of blobs (GET /cas/...), which fault
// does instead.
func faultyProxy(t *testing.T, upstream string, fault func(w http.ResponseWriter, r *http.Request, body []byte)) string {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/cas/") {
			rp.ServeHTTP(w, r)
			return
		}
		resp, err := http.Get(upstream + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			w.WriteHeader(resp.StatusCode)
			return
		}
		fault(w, r, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRemoteTruncated: a server that cuts a blob's body short (the
// connection closes before Content-Length bytes) is a miss and one
// warning; the partial blob is not kept.
func TestRemoteTruncated(t *testing.T) {
	t.Parallel()
	n := testutil.StartNginx(t, nil)
	remoteProject(t, n.URL).ok(allTasks)
	proxy := faultyProxy(t, n.URL, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if bytes.HasPrefix(body, []byte(`{"version"`)) {
			w.Write(body) // the entries come through: the outputs' blobs are cut
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush() // the header and half the body reach the client
		panic(http.ErrAbortHandler)
	})
	p := remoteProject(t, proxy)
	r := p.ok(allTasks)
	if ws := remoteWarnings(r); len(ws) != 1 || !strings.Contains(ws[0], "truncated") {
		t.Fatalf("want one warning about a truncated blob, got %q", ws)
	}
	checkBuilt(t, p)
	checkLocalCache(t, p)
}

// TestRemoteSlow: a server that accepts connections and never answers
// costs one timeout (--remote-cache-timeout), then the run goes on
// without it: one warning, every task run, exit 0.
func TestRemoteSlow(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // until the client gives up
	}))
	t.Cleanup(srv.Close)
	p := remoteProject(t, srv.URL)
	r := p.ok(allTasks, "--remote-cache-timeout", "300ms")
	if ws := remoteWarnings(r); len(ws) != 1 || !strings.Contains(ws[0], "no progress for 300ms (timeout)") {
		t.Fatalf("want one warning about the timeout, got %q", ws)
	}
	checkBuilt(t, p)
	// A server that answers lookups (404) but stalls uploads: the
	// uploads time out, the run ends.
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			io.Copy(io.Discard, r.Body) // then the server notices the client leaving
			<-r.Context().Done()
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(stall.Close)
	q := remoteProject(t, stall.URL, "HAZLUA_REMOTE_CACHE_TIMEOUT=0.3")
	r = q.ok(allTasks)
	if ws := remoteWarnings(r); len(ws) != 1 || !strings.Contains(ws[0], "(timeout)") || !strings.Contains(ws[0], "PUT") {
		t.Fatalf("want one warning about the upload's timeout, got %q", ws)
	}
}

// TestRemoteSecrets: the password and the token are never printed: not
// in the output of a successful run with -v, --report and --trace, nor
// in the warning of a rejected one, nor in the environment tasks see.
func TestRemoteSecrets(t *testing.T) {
	t.Parallel()
	const user, pass, token = "ci-bot", "Pa55-w0rd-xyzzy", "tok-abcdef-123456"
	n := testutil.StartNginx(t, &testutil.NginxAuth{User: user, Password: pass})
	envTask := "\nhaz.task(\"showenv\", {run = function() haz.run{\"sh\", \"-c\", \"env; echo $HAZLUA_REMOTE_CACHE_PASSWORD $HAZLUA_REMOTE_CACHE_TOKEN\"} end})\n"
	withPass := strings.Replace(n.URL, "http://", "http://"+user+":"+pass+"@", 1)
	for _, tc := range []struct {
		name    string
		env     []string
		url     string
		ok      bool   // the server accepts the credentials
		warning string // else the warning says
	}{
		{"basic auth", []string{"HAZLUA_REMOTE_CACHE_USER=" + user, "HAZLUA_REMOTE_CACHE_PASSWORD=" + pass}, n.URL, true, ""},
		{"in the URL", nil, withPass, true, ""},
		{"wrong password", []string{"HAZLUA_REMOTE_CACHE_USER=" + user, "HAZLUA_REMOTE_CACHE_PASSWORD=x" + pass}, n.URL, false, "401 Unauthorized"},
		{"token", []string{"HAZLUA_REMOTE_CACHE_TOKEN=" + token}, n.URL, false, "401 Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := remoteProject(t, tc.url, tc.env...)
			p.write("build.lua", projectLua+envTask)
			report, trace := p.path("report.json"), p.path("trace.json")
			r := p.run("-v", "--report", report, "--trace", trace, "default", "showenv")
			if r.code != 0 {
				t.Fatalf("exit %d: %q", r.code, r.stderr)
			}
			ws := remoteWarnings(r)
			if tc.ok && len(ws) > 0 || !tc.ok && (len(ws) != 1 || !strings.Contains(ws[0], tc.warning)) {
				t.Fatalf("warnings %q", ws)
			}
			rep, _ := os.ReadFile(report)
			tr, _ := os.ReadFile(trace)
			if len(rep) == 0 || len(tr) == 0 {
				t.Fatal("no report or trace written")
			}
			all := strings.Join(r.stdout, "\n") + strings.Join(r.stderr, "\n") + string(rep) + string(tr)
			for _, secret := range []string{pass, token} {
				if strings.Contains(all, secret) {
					t.Errorf("a secret was printed:\n%s", all)
				}
			}
			if !strings.Contains(all, "HAZ_E2E_TOKEN=") {
				t.Error("the showenv task did not print the environment")
			}
			if tc.ok {
				if p := puts(n); len(p) == 0 || !strings.Contains(p[len(p)-1], "\" 20") {
					t.Errorf("uploads not accepted: %q", p)
				}
			}
		})
	}
}

// TestRemoteStopDuringUpload: SIGINT while uploads hang (a server that
// takes PUT bodies and never answers, with a timeout of an hour) ends the
// run at once: the uploads are abandoned without a warning, the status
// is the signal's.
func TestRemoteStopDuringUpload(t *testing.T) {
	t.Parallel()
	put := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			io.Copy(io.Discard, r.Body)
			put <- struct{}{}
			<-r.Context().Done()
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	p := remoteProject(t, srv.URL, "HAZLUA_REMOTE_CACHE_TIMEOUT=1h")
	// A grace of an hour: the stop protocol's forced exit (grace + 2 s)
	// cannot end the run instead.
	r := startHazlua(t, p.dir, nil, runOpts{wrap: p.wrap()}, "-j2", "--grace", "1h")
	select {
	case <-put:
	case <-time.After(deadline):
		t.Fatal("no upload started")
	}
	r.signal(t, syscall.SIGINT)
	if code := r.exitCode(t); code != 130 {
		t.Fatalf("exit status %d, want 130", code)
	}
	res := &result{stderr: r.stderrLines(t)}
	checkNoGoTrace(t, res.stderr)
	if ws := remoteWarnings(res); len(ws) > 0 {
		t.Fatalf("warnings: %q", ws)
	}
}
