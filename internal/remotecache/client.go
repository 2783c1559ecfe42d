// Package remotecache is a client of the Bazel HTTP remote cache protocol:
// GET, PUT and HEAD of /cas/<sha256> (blobs, named by the SHA-256 of their
// content) and /ac/<sha256> (action results, named by a key), as
// bazel-remote, nginx with WebDAV and other servers speak it. It knows
// nothing of hazlua's local cache or of Lua: internal/uptodate drives it.
//
// Every blob it downloads is hashed while it is read and checked against
// its name; a mismatch or a body cut short is an error wrapping
// ErrIntegrity, after which the caller must throw away what it was given.
//
// Credentials (basic auth, a bearer token) travel only in the
// Authorization header. No error or other text of this package holds
// them: requests are made to the URL without its user info, errors name
// the server by Client.String, and every message is scrubbed of the
// secrets as a last line of defence.
package remotecache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// DefaultTimeout is how long a request may go without progress (no
// connection, no response header, no byte of the body either way) when
// Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// ErrIntegrity is wrapped by the errors of downloads whose content does
// not hash to its name, or was cut short.
var ErrIntegrity = errors.New("does not match its hash")

// ErrReadOnly is returned by the uploads of a read-only Client.
var ErrReadOnly = errors.New("remotecache: read-only")

// Options configures New.
type Options struct {
	// URL is the server's base URL: http:// or https://, with an
	// optional path prefix (an instance name). User info in it
	// (https://user:password@host) is taken as basic auth.
	URL string
	// User and Password, if User is set, are sent as HTTP basic auth
	// (and replace user info in URL).
	User, Password string
	// Token, if set, is sent as "Authorization: Bearer TOKEN". It cannot
	// go with basic auth.
	Token string
	// ReadOnly makes every upload fail with ErrReadOnly.
	ReadOnly bool
	// Timeout bounds each wait of a request (connecting, the response's
	// header, each read or write of a body): a server that makes no
	// progress for that long fails the request. Zero: DefaultTimeout. A
	// large blob that keeps flowing is never cut.
	Timeout time.Duration
	// Transport, if set, replaces the default: a clone of
	// http.DefaultTransport, which verifies TLS against the system's
	// roots.
	Transport http.RoundTripper
}

// Client speaks to one server. It is safe for concurrent use by several
// goroutines; it holds idle connections for reuse and no goroutine of
// its own between calls.
type Client struct {
	base     string // scheme://host/prefix, no user info, no trailing slash
	display  string // base, as errors name the server
	auth     string // the Authorization header's value, or ""
	secrets  []string
	readOnly bool
	timeout  time.Duration
	hc       *http.Client
}

// New checks o and returns its Client. Its errors never hold a secret.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("remote cache URL %q: want http://HOST[:PORT][/PREFIX] or https://…", redactURL(o.URL))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("remote cache URL %s: a query or fragment is not allowed", redactURL(o.URL))
	}
	c := &Client{readOnly: o.ReadOnly, timeout: o.Timeout}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	user, pass := o.User, o.Password
	if user == "" && u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	switch {
	case o.Token != "" && user != "":
		return nil, errors.New("remote cache: both a bearer token and basic auth were given: use one")
	case o.Token != "":
		c.auth = "Bearer " + o.Token
		c.secrets = append(c.secrets, o.Token)
	case user != "":
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		c.secrets = append(c.secrets, pass, c.auth[len("Basic "):])
	}
	if c.auth != "" {
		c.secrets = append(c.secrets, c.auth)
	}
	u.User = nil
	c.base = strings.TrimRight(u.String(), "/")
	c.display = c.base
	tr := o.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = http.ProxyFromEnvironment
		t.DialContext = (&net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = c.timeout
		t.ResponseHeaderTimeout = c.timeout
		t.MaxIdleConnsPerHost = 32
		tr = t
	}
	c.hc = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return errors.New("redirects are not followed") // the Authorization header must not go elsewhere
	}}
	return c, nil
}

// String returns the server's URL without user info, as errors name it.
func (c *Client) String() string { return c.display }

// ReadOnly reports whether uploads are refused.
func (c *Client) ReadOnly() bool { return c.readOnly }

// redactURL returns raw with any password replaced by "xxxxx", for
// errors about a URL that did not parse as wanted.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if u.User != nil {
			u.User = url.User("xxxxx")
		}
		return u.String()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		return "xxxxx" + raw[at:]
	}
	return raw
}

// Error is a failed request: the operation, the path and what went
// wrong. Its text never holds a secret.
type Error struct {
	Op     string // "GET", "PUT", "HEAD"
	Server string // Client.String
	Path   string // "ac/…", "cas/…"
	Status int    // the HTTP status, or 0 when there was no response
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("remote cache %s: %s /%s: %v", e.Server, e.Op, e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// scrubbed is an error whose text was cleaned of secrets; it unwraps to
// the original, for errors.Is.
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// fail returns the Error of op on p.
func (c *Client) fail(op, p string, status int, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the URL
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errStalled) {
		err = fmt.Errorf("no progress for %v (timeout): %w", c.timeout, err)
	}
	msg := err.Error()
	for _, s := range c.secrets {
		if len(s) >= 4 { // shorter would mangle words, and is no secret
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return &Error{Op: op, Server: c.display, Path: p, Status: status, Err: &scrubbed{msg: msg, err: err}}
}

// errStalled is the cause of a request cancelled for making no progress.
var errStalled = errors.New("stalled")

// watchdog cancels a request's context when no progress was made for
// the Client's timeout; kick notes progress.
type watchdog struct {
	t       *time.Timer
	d       time.Duration
	stalled atomic.Bool // the timer fired
}

func (c *Client) watch(ctx context.Context) (context.Context, *watchdog, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{d: c.timeout}
	w.t = time.AfterFunc(c.timeout, func() { w.stalled.Store(true); cancel(errStalled) })
	return ctx, w, func() { w.t.Stop(); cancel(context.Canceled) }
}

func (w *watchdog) kick() { w.t.Reset(w.d) }

// kickReader kicks w at each read that returns bytes.
type kickReader struct {
	r io.Reader
	w *watchdog
}

func (k *kickReader) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if n > 0 {
		k.w.kick()
	}
	if err != nil && err != io.EOF && k.w.stalled.Load() {
		err = errStalled
	}
	return n, err
}

// do makes one request of method on p (relative to the base), with body
// (nil: none) of size bytes, and returns the response with its body
// wrapped to kick the watchdog. The caller calls done after reading it.
func (c *Client) do(ctx context.Context, method, p string, body io.Reader, size int64) (resp *http.Response, done func(), err error) {
	ctx, w, stop := c.watch(ctx)
	if body != nil {
		body = &kickReader{r: body, w: w}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/"+p, body)
	if err != nil {
		stop()
		return nil, nil, c.fail(method, p, 0, err)
	}
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err = c.hc.Do(req)
	if err != nil {
		if w.stalled.Load() {
			err = errStalled
		}
		stop()
		return nil, nil, c.fail(method, p, 0, err)
	}
	w.kick()
	resp.Body = struct {
		io.Reader
		io.Closer
	}{&kickReader{r: resp.Body, w: w}, resp.Body}
	return resp, func() { resp.Body.Close(); stop() }, nil
}

// statusError is the error of an unexpected HTTP status.
func (c *Client) statusError(op, p string, resp *http.Response) error {
	return c.fail(op, p, resp.StatusCode, fmt.Errorf("%s", resp.Status))
}

// casPath and acPath are the paths of a blob and of an action result.
func casPath(sum fingerprint.Sum) string { return "cas/" + sum.String() }
func acPath(key fingerprint.Sum) string  { return "ac/" + key.String() }

// Has reports whether the server holds the blob sum (HEAD /cas/SUM).
func (c *Client) Has(ctx context.Context, sum fingerprint.Sum) (bool, error) {
	p := casPath(sum)
	resp, done, err := c.do(ctx, http.MethodHead, p, nil, 0)
	if err != nil {
		return false, err
	}
	defer done()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	case resp.StatusCode/100 == 2:
		return true, nil
	}
	return false, c.statusError("HEAD", p, resp)
}

// GetBlob writes the blob sum into w (GET /cas/SUM) and reports whether
// the server had it. The content is hashed as it is copied: when it does
// not hash to sum, or ends early, the error wraps ErrIntegrity, and w has
// received bytes that must be thrown away. Errors of w are returned as
// they are.
func (c *Client) GetBlob(ctx context.Context, sum fingerprint.Sum, w io.Writer) (bool, error) {
	p := casPath(sum)
	h := sha256.New()
	n, ok, err := c.get(ctx, p, io.MultiWriter(w, h))
	if !ok || err != nil {
		return false, err
	}
	if got := fingerprint.Sum(h.Sum(nil)); got != sum {
		return false, c.fail("GET", p, 0, fmt.Errorf("%d bytes hashing to %.12s…: %w", n, got, ErrIntegrity))
	}
	return true, nil
}

// get copies the body of GET p into w, and reports whether the server had
// p (404: false, no error). A body cut short is an error wrapping
// ErrIntegrity; the body's other errors are the server's (Error); w's
// are returned as they are.
func (c *Client) get(ctx context.Context, p string, w io.Writer) (n int64, ok bool, err error) {
	resp, done, err := c.do(ctx, http.MethodGet, p, nil, 0)
	if err != nil {
		return 0, false, err
	}
	defer done()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return 0, false, nil
	case resp.StatusCode != http.StatusOK:
		return 0, false, c.statusError("GET", p, resp)
	}
	n, err = io.Copy(w, &writeTracker{r: resp.Body})
	var rerr *readError
	switch {
	case errors.As(err, &rerr) && errors.Is(rerr.err, io.ErrUnexpectedEOF):
		return n, false, c.fail("GET", p, 0, fmt.Errorf("truncated after %d bytes: %w", n, ErrIntegrity))
	case errors.As(err, &rerr):
		return n, false, c.fail("GET", p, 0, rerr.err)
	case err != nil:
		return n, false, err // w's
	case resp.ContentLength >= 0 && n != resp.ContentLength:
		return n, false, c.fail("GET", p, 0, fmt.Errorf("truncated: %d of %d bytes: %w", n, resp.ContentLength, ErrIntegrity))
	}
	return n, true, nil
}

// readError marks an error of the response body (not of the writer).
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }

// writeTracker wraps the response body so that its errors are told apart
// from the writer's.
type writeTracker struct{ r io.Reader }

func (t *writeTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	return n, err
}

// limitWriter is a bytes buffer that refuses to grow past max.
type limitWriter struct {
	b   []byte
	max int
}

var errTooLarge = errors.New("larger than the limit")

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(l.b)+len(p) > l.max {
		return 0, errTooLarge
	}
	l.b = append(l.b, p...)
	return len(p), nil
}

// GetBlobBytes returns the blob sum (nil when the server lacks it),
// verified as GetBlob verifies, refusing one larger than max bytes.
func (c *Client) GetBlobBytes(ctx context.Context, sum fingerprint.Sum, max int) ([]byte, error) {
	lw := &limitWriter{max: max}
	ok, err := c.GetBlob(ctx, sum, lw)
	if errors.Is(err, errTooLarge) {
		return nil, c.fail("GET", casPath(sum), 0, fmt.Errorf("blob larger than %d bytes", max))
	}
	if !ok || err != nil {
		return nil, err
	}
	if lw.b == nil {
		lw.b = []byte{}
	}
	return lw.b, nil
}

// GetAction returns the action result stored under key (GET /ac/KEY),
// or nil when there is none. One larger than max bytes is an error.
func (c *Client) GetAction(ctx context.Context, key fingerprint.Sum, max int) ([]byte, error) {
	p := acPath(key)
	lw := &limitWriter{max: max}
	_, ok, err := c.get(ctx, p, lw)
	if errors.Is(err, errTooLarge) {
		return nil, c.fail("GET", p, 0, fmt.Errorf("action result larger than %d bytes", max))
	}
	if !ok || err != nil {
		return nil, err
	}
	if lw.b == nil {
		lw.b = []byte{}
	}
	return lw.b, nil
}

// sum (PUT /cas/SUM). The caller vouches that they hash to sum.
func (c *Client) PutBlob(ctx context.Context, sum fingerprint.Sum, body io.ReadSeeker, size int64) error {
	return c.put(ctx, casPath(sum), body, size)
}

// PutAction uploads data as the action result of key (PUT /ac/KEY).
func (c *Client) PutAction(ctx context.Context, key fingerprint.Sum, data []byte) error {
	return c.put(ctx, acPath(key), bytes.NewReader(data), int64(len(data)))
}

// put uploads body to p. A request that failed before any response (a
// kept-alive connection the server had just closed) is sent once more:
// Go's transport retries only requests whose body it can rewind.
func (c *Client) put(ctx context.Context, p string, body io.ReadSeeker, size int64) error {
	if c.readOnly {
		return ErrReadOnly
	}
	resp, done, err := c.do(ctx, http.MethodPut, p, body, size)
	if err != nil && ctx.Err() == nil && !errors.Is(err, errStalled) {
		if _, serr := body.Seek(0, io.SeekStart); serr == nil {
			resp, done, err = c.do(ctx, http.MethodPut, p, body, size)
		}
	}
	if err != nil {
		return err
	}
	defer done()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return c.statusError("PUT", p, resp)
	}
	return nil
}
