package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hazlua/hazlua/internal/testutil"
)

// The remote benchmark (-only remote, in the cache group) measures a full
// build restored from the remote cache (docs/api.md, "The remote cache")
// against the same build run: for examples/cproject and the generated C
// project of cache-first-build, in a clean tree (no build directory, no
// .haz: an empty local cache), with nginx (WebDAV) serving the Bazel HTTP
// cache protocol on loopback, filled by one untimed build first.

// Variant keys of the remote benchmark, after the project's prefix.
const (
	keyRemoteRun     = "remote-run"
	keyRemoteRestore = "remote-restore"
)

// startBenchNginx starts nginx (WebDAV) serving dir/store on a free
// loopback port, as the tests do.
func startBenchNginx(dir string) (*testutil.Nginx, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, errors.New("nginx is not installed (apt-get install nginx-light)")
	}
	return testutil.LaunchNginx(bin, dir, nil)
}

func (c *cacheSetup) remote() (benchmark, error) {
	srvErr := ""
	srv, err := startBenchNginx(filepath.Join(c.root, "remote", "nginx"))
	if err != nil {
		srvErr = "error: " + err.Error()
	} else {
		c.cleanups = append(c.cleanups, srv.Kill)
	}
	var variants []variant
	for _, p := range []*firstProject{c.cprojectCopy("remote"), c.cgenProject("remote")} {
		clean := func() error {
			for _, r := range p.clean {
				if err := os.RemoveAll(filepath.Join(p.dir, r)); err != nil {
					return err
				}
			}
			syncfs(p.dir)
			return nil
		}
		outputs := func() error {
			for _, o := range p.outputs {
				if _, err := os.Stat(filepath.Join(p.dir, o)); err != nil {
					return err
				}
			}
			return nil
		}
		run := c.hazVariant(p.prefix+keyRemoteRun, p.label+": hazlua, run (no remote cache)", p.dir, hazScript, p.target, p.tasks)
		run.before, run.after = clean, outputs
		var restore variant
		if srv != nil {
			restore = c.hazVariant(p.prefix+keyRemoteRestore, p.label+": hazlua, restored from the remote cache", p.dir, hazScript, p.target, p.tasks, "--remote-cache", srv.URL)
		} else {
			restore = c.hazVariant(p.prefix+keyRemoteRestore, p.label+": hazlua, restored from the remote cache", p.dir, hazScript, p.target, p.tasks)
			restore.preErr = srvErr
		}
		restore.before, restore.after = clean, outputs
		for _, v := range []*variant{&run, &restore} {
			if v.preErr == "" && p.err != nil {
				v.preErr = "error: " + p.err.Error()
			}
		}
		// Fill the server with one build, then check that a clean tree is
		// restored whole from it.
		if restore.preErr == "" {
			err := clean()
			if err == nil {
				_, err = runOnce(c.root, restore.argv)
			}
			if err == nil {
				err = clean()
			}
			if err != nil {
				restore.preErr = "error: filling the remote cache: " + err.Error()
			} else if err := c.checkHazlua(p.dir, hazScript, p.target, []string{"--explain", "--remote-cache", srv.URL}, p.tasks,
				"will be restored from the cache (never ran; found in the remote cache)"); err != nil {
				failCheck("remote", &restore, err)
			}
		}
		variants = append(variants, run, restore)
	}
	return benchmark{
		name: "remote",
		what: fmt.Sprintf("a full build restored from the remote cache vs the same build run, for (a) examples/cproject (`build`) and (b) the %d generated C files of cache-first-build. "+
			"The server is nginx (WebDAV: `dav_methods PUT`) on 127.0.0.1, serving the Bazel HTTP cache protocol from its own directory; one untimed `hazlua --remote-cache URL` build fills it first. "+
			"Before each run (untimed) the build directory and `.haz` (state and local cache) are removed and the filesystem synced, so `run` compiles everything (and stores it in the local cache, as any first build does) and `restored` finds nothing locally and brings every task from the server: its action result, its entry, each blob (verified against its SHA-256), into the local cache, then restores the outputs. "+
			"Before timing, `hazlua --explain --remote-cache URL` in a clean tree must report every task \"will be restored from the cache (never ran; found in the remote cache)\"; after each run the outputs must exist",
			c.sz.cacheCFiles),
		variants: variants,
	}, nil
}
