package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hazlua/hazlua/internal/cache"
	"github.com/hazlua/hazlua/internal/uptodate"
	"github.com/hazlua/hazlua/luaapi"
)

// CacheDirEnv names the environment variable that sets the cache's
// directory, as --cache-dir does (the flag wins).
const CacheDirEnv = "HAZLUA_CACHE_DIR"

// cacheOp is a cache maintenance flag: one of stats, prune and clear.
type cacheOp struct {
	stats, prune, clear bool
	maxSize, maxAge     string // --cache-max-size, --cache-max-age as given
	bytes               int64  // parsed maxSize; 0: no size limit
	age                 time.Duration
}

// check validates the maintenance flags: at most one operation, and
// --cache-prune with at least one limit (and limits only with it).
func (op *cacheOp) check() error {
	n := 0
	for _, b := range []bool{op.stats, op.prune, op.clear} {
		if b {
			n++
		}
	}
	if n > 1 {
		return usageErrorf("--cache-stats, --cache-prune and --cache-clear cannot be used together")
	}
	if (op.maxSize != "" || op.maxAge != "") && !op.prune {
		return usageErrorf("--cache-max-size and --cache-max-age go with --cache-prune")
	}
	if op.prune && op.maxSize == "" && op.maxAge == "" {
		return usageErrorf("--cache-prune needs --cache-max-size SIZE, --cache-max-age AGE or both")
	}
	var err error
	if op.maxSize != "" {
		if op.bytes, err = parseSize(op.maxSize); err != nil {
			return usageErrorf("--cache-max-size: %v", err)
		}
	}
	if op.maxAge != "" {
		if op.age, err = parseAge(op.maxAge); err != nil {
			return usageErrorf("--cache-max-age: %v", err)
		}
	}
	return nil
}

// maintainCache does the maintenance operation of opts on the cache: the
// one --cache-dir or HAZLUA_CACHE_DIR names, else the project's (found
// as a run finds its script). The script is not run.
func maintainCache(opts *options, stdout io.Writer) error {
	dir := opts.cacheDir
	if dir == "" {
		script, _, err := resolveScript(opts.file, opts.positional)
		if err != nil {
			return err
		}
		abs, err := filepath.Abs(script)
		if err != nil {
			return usageErrorf("%v", err)
		}
		dir = filepath.Join(filepath.Dir(abs), uptodate.StateDir, uptodate.CacheSubdir)
	}
	if _, err := os.Stat(dir); err != nil && !opts.cacheOp.clear {
		if os.IsNotExist(err) {
			fmt.Fprintf(stdout, "cache %s: empty (it does not exist yet)\n", dir)
			return nil
		}
		return runtimeError(err)
	}
	c, err := cache.Open(dir)
	if err != nil {
		return runtimeError(err)
	}
	op := opts.cacheOp
	switch {
	case op.stats:
		st, err := c.Stats()
		if err != nil {
			return runtimeError(err)
		}
		fmt.Fprintf(stdout, "cache %s: %d entries, %d blobs, %s, %d hits\n", dir, st.Entries, st.Blobs, formatSize(st.Bytes), st.Hits)
	case op.prune:
		res, err := c.Prune(op.bytes, op.age, time.Now())
		if err != nil {
			return runtimeError(err)
		}
		st, err := c.Stats()
		if err != nil {
			return runtimeError(err)
		}
		fmt.Fprintf(stdout, "cache %s: removed %d entries, %d blobs, %s; %d entries, %s left\n",
			dir, res.Entries, res.Blobs, formatSize(res.Bytes), st.Entries, formatSize(st.Bytes))
	case op.clear:
		if err := c.Clear(); err != nil {
			return runtimeError(err)
		}
		fmt.Fprintf(stdout, "cache %s: cleared\n", dir)
	}
	return nil
}

// runtimeError is a failure of a maintenance operation: exit status 1.
func runtimeError(err error) error {
	return &luaapi.Error{Kind: luaapi.KindRuntime, Msg: err.Error(), Err: err}
}

// sizeUnits are the suffixes of parseSize, in bytes (powers of 1024).
var sizeUnits = map[byte]float64{'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}

// parseSize parses a size: a number of bytes, or a number followed by K,
// M, G or T (powers of 1024; "MB", "MiB" and lower case are accepted).
func parseSize(s string) (int64, error) {
	u := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(s), "B"), "I")
	mult := 1.0
	if n := len(u); n > 0 {
		if m, ok := sizeUnits[u[n-1]]; ok {
			mult, u = m, u[:n-1]
		}
	}
	f, err := strconv.ParseFloat(u, 64)
	if err != nil || f <= 0 || f*mult > 1<<62 {
		return 0, fmt.Errorf("%q is not a size (a number of bytes, or with K, M, G or T: 500M)", s)
	}
	return int64(f * mult), nil
}

// parseAge parses an age: a Go duration ("72h", "90m") or a number of
// days ("30d").
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if f, err := strconv.ParseFloat(days, 64); err == nil && f > 0 {
			return time.Duration(f * float64(24*time.Hour)), nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not an age (a duration such as 72h, or days: 30d)", s)
}

// formatSize prints n bytes in the largest unit that keeps a number of at
// least 1: "812 B", "1.5 KiB", "34.2 MiB".
func formatSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, units := float64(n), []string{"KiB", "MiB", "GiB", "TiB"}
	for i, u := range units {
		f /= 1024
		if f < 1024 || i == len(units)-1 {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return ""
}
