package remotecache

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/testutil"
)

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNginx puts and gets blobs and action results through a real nginx
// with WebDAV, with basic auth, and checks what a wrong password and a
// missing key give.
func TestNginx(t *testing.T) {
	const user, pass = "builder", "s3cret-Pa55"
	n := testutil.StartNginx(t, &testutil.NginxAuth{User: user, Password: pass})
	ctx := context.Background()
	c := newClient(t, Options{URL: n.URL, User: user, Password: pass})
	blob := []byte("int main() { return 0; }\n")
	sum := fingerprint.HashBytes(blob)
	if has, err := c.Has(ctx, sum); err != nil || has {
		t.Fatalf("Has before Put: %v, %v", has, err)
	}
	if ok, err := c.GetBlob(ctx, sum, &bytes.Buffer{}); err != nil || ok {
		t.Fatalf("GetBlob before Put: %v, %v", ok, err)
	}
	if err := c.PutBlob(ctx, sum, bytes.NewReader(blob), int64(len(blob))); err != nil {
		t.Fatal(err)
	}
	empty := fingerprint.HashBytes(nil)
	if err := c.PutBlob(ctx, empty, bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	if has, err := c.Has(ctx, sum); err != nil || !has {
		t.Fatalf("Has after Put: %v, %v", has, err)
	}
	var got bytes.Buffer
	if ok, err := c.GetBlob(ctx, sum, &got); err != nil || !ok || got.String() != string(blob) {
		t.Fatalf("GetBlob: %v, %v, %q", ok, err, got.String())
	}
	if b, err := c.GetBlobBytes(ctx, empty, 10); err != nil || b == nil || len(b) != 0 {
		t.Fatalf("GetBlobBytes(empty): %q, %v", b, err)
	}
	if _, err := c.GetBlobBytes(ctx, sum, 3); err == nil || !strings.Contains(err.Error(), "larger than 3 bytes") {
		t.Fatalf("GetBlobBytes over the limit: %v", err)
	}
	key := fingerprint.HashBytes([]byte("a task"))
	if ac, err := c.GetAction(ctx, key, 1<<20); err != nil || ac != nil {
		t.Fatalf("GetAction before Put: %q, %v", ac, err)
	}
	ar := &ActionResult{OutputFiles: []OutputFile{{Path: "build/a.o", Digest: Digest{Hash: sum, Size: int64(len(blob))}, Executable: true}}}
	if err := c.PutAction(ctx, key, ar.Encode()); err != nil {
		t.Fatal(err)
	}
	ac, err := c.GetAction(ctx, key, 1<<20)
	if err != nil || !bytes.Equal(ac, ar.Encode()) {
		t.Fatalf("GetAction: %q, %v", ac, err)
	}

	// A wrong password: an error naming the status, never the password.
	for _, o := range []Options{
		{URL: n.URL, User: user, Password: "wrong-" + pass},
		{URL: strings.Replace(n.URL, "http://", "http://"+user+":wrong-"+pass+"@", 1)},
	} {
		bad := newClient(t, o)
		_, err := bad.Has(ctx, sum)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("wrong password: %v", err)
		}
		if strings.Contains(err.Error(), pass) || strings.Contains(bad.String(), pass) {
			t.Fatalf("the password is in %q (%s)", err, bad)
		}
	}
}

// TestReadOnly: a read-only client makes no upload request.
func TestReadOnly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request %s %s", r.Method, r.URL)
	}))
	defer srv.Close()
	c := newClient(t, Options{URL: srv.URL, ReadOnly: true})
	if err := c.PutBlob(context.Background(), fingerprint.Sum{}, strings.NewReader("x"), 1); !errors.Is(err, ErrReadOnly) {
		t.Fatal(err)
	}
	if err := c.PutAction(context.Background(), fingerprint.Sum{}, nil); !errors.Is(err, ErrReadOnly) {
		t.Fatal(err)
	}
}

// TestBadServers: every way a server can fail a download is an error of
// the right kind, never a hang or a wrong blob.
func TestBadServers(t *testing.T) {
	blob := bytes.Repeat([]byte("object code "), 1000)
	sum := fingerprint.HashBytes(blob)
	for _, tc := range []struct {
		name      string
		handler   http.HandlerFunc
		integrity bool   // the error wraps ErrIntegrity
		want      string // in the error
	}{
		{"corrupt", func(w http.ResponseWriter, r *http.Request) {
			b := bytes.Clone(blob)
			b[100] ^= 1
			w.Write(b)
		}, true, "does not match its hash"},
		{"truncated", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(blob)))
			w.Write(blob[:len(blob)/2])
			panic(http.ErrAbortHandler) // close the connection mid-body
		}, true, "truncated"},
		{"truncated chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Write(blob[:len(blob)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}, true, "truncated"},
		{"500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "disk on fire", http.StatusInternalServerError)
		}, false, "500 Internal Server Error"},
		{"no response", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // the client gave up
		}, false, "timeout"},
		{"stalled body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(blob)))
			w.Write(blob[:100])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // the client gave up
		}, false, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c := newClient(t, Options{URL: srv.URL + "/prefix/", Timeout: 300 * time.Millisecond})
			var got bytes.Buffer
			ok, err := c.GetBlob(context.Background(), sum, &got)
			if err == nil || ok {
				t.Fatalf("GetBlob: %v, %v", ok, err)
			}
			if errors.Is(err, ErrIntegrity) != tc.integrity || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q (integrity %v), want %q (integrity %v)", err, errors.Is(err, ErrIntegrity), tc.want, tc.integrity)
			}
			var re *Error
			if !errors.As(err, &re) || re.Path != "cas/"+sum.String() || !strings.Contains(err.Error(), srv.URL+"/prefix") {
				t.Fatalf("error %q does not name the server and path", err)
			}
			if _, err := c.GetAction(context.Background(), sum, 1<<20); err == nil && tc.name != "corrupt" {
				t.Fatalf("GetAction: no error")
			}
		})
	}
}

// TestDownServer: a server that is not there is an error at once.
func TestDownServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newClient(t, Options{URL: url})
	if _, err := c.Has(context.Background(), fingerprint.Sum{}); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatal(err)
	}
}

// TestSecrets: a bearer token and a password reach the server in the
// Authorization header, and are in no error or name.
func TestSecrets(t *testing.T) {
	const token, pass = "tok-9f8e7d6c5b4a", "pw-0a1b2c3d"
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		// A server that echoes what it was sent, as some error pages do.
		http.Error(w, "denied: "+r.Header.Get("Authorization"), http.StatusInternalServerError)
	}))
	defer srv.Close()
	for _, o := range []Options{
		{URL: srv.URL, Token: token},
		{URL: srv.URL, User: "u", Password: pass},
		{URL: strings.Replace(srv.URL, "http://", "http://u:"+pass+"@", 1)},
	} {
		c := newClient(t, o)
		_, err := c.GetAction(context.Background(), fingerprint.Sum{}, 100)
		for _, s := range []string{token, pass, "Basic "} {
			if strings.Contains(err.Error(), s) || strings.Contains(c.String(), s) {
				t.Errorf("%q or %q holds a secret", err, c)
			}
		}
	}
	if len(gotAuth) != 3 || gotAuth[0] != "Bearer "+token || !strings.HasPrefix(gotAuth[1], "Basic ") || gotAuth[1] != gotAuth[2] {
		t.Fatalf("Authorization headers %q", gotAuth)
	}
	if _, err := New(Options{URL: srv.URL, Token: token, User: "u", Password: pass}); err == nil || strings.Contains(err.Error(), pass) {
		t.Fatalf("token and basic auth: %v", err)
	}
	if _, err := New(Options{URL: "ftp://u:" + pass + "@host/"}); err == nil || strings.Contains(err.Error(), pass) {
		t.Fatalf("bad URL: %v", err)
	}
}

// TestNoRedirect: a redirect is not followed (the credentials must not
// go to another server).
func TestNoRedirect(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("http://127.0.0.1:1/elsewhere", http.StatusFound))
	defer srv.Close()
	c := newClient(t, Options{URL: srv.URL, Token: "t"})
	if _, err := c.Has(context.Background(), fingerprint.Sum{}); err == nil || !strings.Contains(err.Error(), "redirects are not followed") {
		t.Fatal(err)
	}
}

func TestActionResult(t *testing.T) {
	a, b := fingerprint.HashBytes([]byte("a")), fingerprint.HashBytes([]byte("b"))
	ar := &ActionResult{
		OutputFiles: []OutputFile{
			{Path: "out/a", Digest: Digest{Hash: a, Size: 1}, Executable: true},
			{Path: "out/\xff", Digest: Digest{Hash: a, Size: 1}}, // not UTF-8: left out
			{Path: ".haz/entry", Digest: Digest{Hash: b}},
		},
		ExitCode: 3,
		Stdout:   &Digest{Hash: b, Size: 1},
	}
	got, err := DecodeAction(ar.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.OutputFiles) != 2 || got.OutputFiles[0] != ar.OutputFiles[0] || got.OutputFiles[1] != ar.OutputFiles[2] ||
		got.ExitCode != 3 || *got.Stdout != *ar.Stdout {
		t.Fatalf("round trip: %+v", got)
	}
	if f, ok := got.File(".haz/entry"); !ok || f.Digest.Hash != b {
		t.Fatal("File")
	}
	for _, bad := range [][]byte{{0x12}, {0x12, 0x05, 0x0a, 0x01}, {0x12, 0x02, 0x0a, 0x00}, []byte("{\"json\": true}")} {
		if _, err := DecodeAction(bad); err == nil {
			t.Errorf("DecodeAction(%q): no error", bad)
		}
	}
}

func FuzzDecodeAction(f *testing.F) {
	ar := &ActionResult{OutputFiles: []OutputFile{{Path: "x", Digest: Digest{Size: 3}}}, Stdout: &Digest{}}
	f.Add(ar.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeAction(b)
		if err == nil {
			if _, err := DecodeAction(r.Encode()); err != nil {
				t.Fatalf("re-encoded: %v", err)
			}
		}
	})
}
