package triggers_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/triggers"
	"github.com/cognate-auth/cognate/userpool"
)

func TestVerify(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"version":"1"}`)
	now := time.Unix(1_800_000_000, 0)
	good := triggers.Sign(key, now.Unix(), body)
	for _, tc := range []struct {
		name      string
		ts, sig   string
		body      []byte
		key       []byte
		at        time.Time
		wantError error
	}{
		{"valid", "1800000000", good, body, key, now, nil},
		{"valid within skew", "1800000000", good, body, key, now.Add(4 * time.Minute), nil},
		{"stale", "1800000000", good, body, key, now.Add(6 * time.Minute), triggers.ErrStale},
		{"from the future", "1800000000", good, body, key, now.Add(-6 * time.Minute), triggers.ErrStale},
		{"body changed", "1800000000", good, []byte(`{"version":"2"}`), key, now, triggers.ErrBadSignature},
		{"timestamp changed", "1800000001", good, body, key, now, triggers.ErrBadSignature},
		{"other key", "1800000000", good, body, []byte("another key"), now, triggers.ErrBadSignature},
		{"no scheme", "1800000000", strings.TrimPrefix(good, "v1="), body, key, now, triggers.ErrBadSignature},
		{"garbage timestamp", "soon", good, body, key, now, triggers.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := triggers.Verify(tc.key, tc.ts, tc.sig, tc.body, tc.at); !errors.Is(err, tc.wantError) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantError)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	dev := triggers.New(triggers.Options{})
	prod := triggers.New(triggers.Options{Production: true})
	open := triggers.New(triggers.Options{Production: true, AllowPrivate: true})
	for _, tc := range []struct {
		url             string
		dev, prod, open bool // allowed
	}{
		{"https://hooks.example.com/pre-sign-up", true, true, true},
		{"http://127.0.0.1:8080/hook", true, false, false},
		{"http://localhost:8080/hook", true, false, false},
		{"http://hooks.example.com/hook", false, false, false},
		{"https://127.0.0.1/hook", true, false, true},
		{"https://10.0.0.5/hook", false, false, true},
		{"https://192.168.1.1/hook", false, false, true},
		{"https://169.254.169.254/latest/meta-data", false, false, true},
		{"https://100.64.1.1/hook", false, false, true},
		{"https://[fe80::1]/hook", false, false, true},
		{"https://[::ffff:10.0.0.1]/hook", false, false, true},
		{"https://0.0.0.0/hook", false, false, true},
		{"https://user:pw@hooks.example.com/", false, false, false},
		{"file:///etc/passwd", false, false, false},
		{"/relative", false, false, false},
	} {
		for _, c := range []struct {
			name   string
			client *triggers.Client
			want   bool
		}{{"dev", dev, tc.dev}, {"prod", prod, tc.prod}, {"open", open, tc.open}} {
			if err := c.client.CheckURL(tc.url); (err == nil) != c.want {
				t.Errorf("%s CheckURL(%s) = %v, want allowed %v", c.name, tc.url, err, c.want)
			}
		}
	}
}

// TestInvokeRefusesDisallowedAddressAtDial: a URL that passed CheckURL
// (a name) but reaches a refused address when dialled, as after a DNS
// rebinding, is refused at the connection.
func TestInvokeRefusesDisallowedAddressAtDial(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := triggers.New(triggers.Options{Production: true})
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	_, err := c.Invoke(context.Background(), userpool.HookCall{Trigger: "PreSignUp", URL: url, Key: []byte("k"), Event: []byte(`{}`)})
	if err == nil || hits.Load() != 0 {
		t.Fatalf("Invoke to loopback in production: err %v, %d requests arrived", err, hits.Load())
	}
	if !errors.Is(err, userpool.ErrHookUnavailable) {
		t.Fatalf("error %v does not say the address was refused", err)
	}
}

func TestInvokeSignsAndReusesConnections(t *testing.T) {
	key := []byte("pool secret")
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := triggers.Verify(key, r.Header.Get(triggers.HeaderTimestamp), r.Header.Get(triggers.HeaderSignature), body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if r.Header.Get(triggers.HeaderTrigger) != "PostConfirmation" {
			http.Error(w, "trigger header", http.StatusBadRequest)
			return
		}
		w.Write(body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := triggers.New(triggers.Options{})
	defer c.Close()
	for range 5 {
		out, err := c.Invoke(context.Background(), userpool.HookCall{Trigger: "PostConfirmation", URL: srv.URL, Key: key, Event: []byte(`{"response":{}}`)})
		if err != nil || string(out) != `{"response":{}}` {
			t.Fatalf("Invoke = %q, %v", out, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 calls opened %d connections, want 1", n)
	}
}
