package cli

import (
	"os"
	"strings"

	"github.com/hazlua/hazlua/internal/remotecache"
	"github.com/hazlua/hazlua/luaapi"
)

// The environment variables of the remote cache (docs/api.md, "The
// remote cache"). The flags win over the first three.
const (
	RemoteCacheEnv         = "HAZLUA_REMOTE_CACHE"           // the URL, as --remote-cache
	RemoteCacheReadOnlyEnv = "HAZLUA_REMOTE_CACHE_READ_ONLY" // "1" or "true": as --remote-cache-read-only
	RemoteCacheTimeoutEnv  = "HAZLUA_REMOTE_CACHE_TIMEOUT"   // as --remote-cache-timeout
	RemoteCacheUserEnv     = "HAZLUA_REMOTE_CACHE_USER"      // basic auth
	RemoteCachePasswordEnv = "HAZLUA_REMOTE_CACHE_PASSWORD"  // basic auth (secret)
	RemoteCacheTokenEnv    = "HAZLUA_REMOTE_CACHE_TOKEN"     // a bearer token (secret)
)

// remoteOptions are the remote cache's flags as given.
type remoteOptions struct {
	url      string
	readOnly bool
	timeout  string
}

// remoteCache returns the run's remote cache client, or nil when none is
// configured, from the flags and the environment. The secrets (the
// password, the token, a URL with a password) are removed from hazlua's
// environment, so that no task's process inherits them. Its errors are
// usage errors and never hold a secret.
func remoteCache(ro remoteOptions) (*remotecache.Client, error) {
	url := ro.url
	if url == "" {
		url = os.Getenv(RemoteCacheEnv)
	}
	user := os.Getenv(RemoteCacheUserEnv)
	pass, hasPass := os.LookupEnv(RemoteCachePasswordEnv)
	token, hasToken := os.LookupEnv(RemoteCacheTokenEnv)
	if hasPass {
		os.Unsetenv(RemoteCachePasswordEnv)
	}
	if hasToken {
		os.Unsetenv(RemoteCacheTokenEnv)
	}
	if env := os.Getenv(RemoteCacheEnv); strings.Contains(env, "@") {
		os.Unsetenv(RemoteCacheEnv) // user info, perhaps a password
	}
	if url == "" {
		return nil, nil
	}
	readOnly := ro.readOnly
	if v := os.Getenv(RemoteCacheReadOnlyEnv); !readOnly && v != "" {
		switch strings.ToLower(v) {
		case "1", "true", "yes":
			readOnly = true
		case "0", "false", "no":
		default:
			return nil, usageErrorf("$%s must be 1 or 0 (true or false), not %q", RemoteCacheReadOnlyEnv, v)
		}
	}
	o := remotecache.Options{URL: url, User: user, Password: pass, Token: token, ReadOnly: readOnly}
	timeout, name := ro.timeout, "--remote-cache-timeout"
	if timeout == "" {
		timeout, name = os.Getenv(RemoteCacheTimeoutEnv), "$"+RemoteCacheTimeoutEnv
	}
	if timeout != "" {
		d, err := luaapi.ParseDuration(timeout, isNumber(timeout))
		if err != nil {
			return nil, usageErrorf("%s: %v", name, err)
		}
		o.Timeout = d
	}
	if user == "" && pass != "" {
		return nil, usageErrorf("$%s is set without $%s", RemoteCachePasswordEnv, RemoteCacheUserEnv)
	}
	c, err := remotecache.New(o)
	if err != nil {
		return nil, usageErrorf("--remote-cache: %v", err)
	}
	return c, nil
}
