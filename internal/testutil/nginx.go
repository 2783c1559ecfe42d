package testutil

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Nginx is a real nginx serving a Bazel HTTP remote cache on loopback:
// WebDAV PUT into Store, GET and HEAD from it, as Bazel documents nginx
// as a backend. StartNginx starts it; the test's cleanup kills it.
type Nginx struct {
	URL   string // http://127.0.0.1:PORT
	Dir   string // its prefix: nginx.conf, logs, temporary bodies
	Store string // the files it serves: Store/ac/…, Store/cas/…
	cmd   *exec.Cmd
	done  chan struct{}
}

// NginxAuth, given to StartNginx, makes the server require HTTP basic
// auth with this user and password.
type NginxAuth struct{ User, Password string }

// StartNginx starts nginx (the Debian package nginx-light, which has the
// dav module) on a free loopback port. Without nginx the test is skipped,
// or fails when CI=true (.ci/run installs it).
func StartNginx(t *testing.T, auth *NginxAuth) *Nginx {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nginx is not installed (.ci/run installs nginx-light)")
		}
		t.Skip("nginx is not installed (apt-get install nginx-light)")
	}
	n, err := LaunchNginx(bin, t.TempDir(), auth)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Kill)
	return n
}

// LaunchNginx starts the nginx binary bin as StartNginx does, with dir
// (made if missing) as its prefix, for callers without a testing.T (the
// benchmarks). The caller kills it with Kill.
func LaunchNginx(bin, dir string, auth *NginxAuth) (*Nginx, error) {
	var err error
	for range 5 { // the port is picked free, then taken by nginx: another process may win it
		var n *Nginx
		if n, err = launchNginx(bin, dir, auth); err == nil {
			return n, nil
		}
	}
	return nil, err
}

func launchNginx(bin, dir string, auth *NginxAuth) (*Nginx, error) {
	n := &Nginx{Dir: dir, Store: filepath.Join(dir, "store"), done: make(chan struct{})}
	for _, d := range []string{n.Store, filepath.Join(dir, "logs"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	n.URL = "http://" + addr
	authConf := ""
	if auth != nil {
		pw := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(pw, []byte(auth.User+":{PLAIN}"+auth.Password+"\n"), 0o644); err != nil {
			return nil, err
		}
		authConf = fmt.Sprintf("auth_basic \"cache\";\n      auth_basic_user_file %s;", pw)
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log warn;
events { worker_connections 512; }
http {
  access_log %[1]s/logs/access.log;
  client_body_temp_path %[1]s/tmp/body;
  proxy_temp_path %[1]s/tmp/proxy;
  fastcgi_temp_path %[1]s/tmp/fastcgi;
  uwsgi_temp_path %[1]s/tmp/uwsgi;
  scgi_temp_path %[1]s/tmp/scgi;
  server {
    listen %[2]s;
    root %[1]s/store;
    client_max_body_size 0;
    location / {
      %[3]s
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
`, dir, addr, authConf)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	n.cmd = exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "logs", "error.log"), "-c", confPath)
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { n.cmd.Wait(); close(n.done) }()
	// Wait until it accepts connections, or exits (a port taken).
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return n, nil
		}
		select {
		case <-n.done:
			log, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
			return nil, fmt.Errorf("nginx exited at start: %s", strings.TrimSpace(string(log)))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.Kill()
			return nil, fmt.Errorf("nginx does not accept connections on %s after 20s", addr)
		}
	}
}

// Pid returns nginx's process id.
func (n *Nginx) Pid() int { return n.cmd.Process.Pid }

// Kill kills nginx (SIGKILL) and waits for it to be gone: the server
// dies as a crashed one would, mid-request if one is going.
func (n *Nginx) Kill() {
	if n.cmd.Process == nil {
		return
	}
	syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	<-n.done
}

// Requests returns the access log's request lines ("PUT /cas/… HTTP/1.1"
// with the status after), one per request served so far. nginx writes
// a request's line when the request ends.
func (n *Nginx) Requests() []string {
	data, _ := os.ReadFile(filepath.Join(n.Dir, "logs", "access.log"))
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if i := strings.Index(l, `"`); i >= 0 {
			out = append(out, l[i+1:])
		}
	}
	return out
}
