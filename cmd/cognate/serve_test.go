package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects a command's output while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+) scheme=(https?)`)

// TestServeTLSFlags runs `cognate serve --tls-addr` on free ports and
// reaches both listeners, then `--tls-addr off` from the environment.
func TestServeTLSFlags(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		env  string
		want []string
	}{
		{"both listeners", []string{"--tls-addr", "127.0.0.1:0"}, "", []string{"http", "https"}},
		{"https off from the environment", nil, "off", []string{"http"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("COGNATE_TLS_ADDR", tt.env)
			}
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stderr := &lockedBuffer{}
			done := make(chan error, 1)
			// The demo's default port would make the test fail while a
			// developer's own `cognate serve` runs.
			args := append([]string{"--addr", "127.0.0.1:0", "--demo-addr", "off", "--metrics-addr", "off", "--data", dir}, tt.args...)
			go func() { done <- serve(ctx, args, io.Discard, stderr) }()

			addrs := map[string]string{}
			for deadline := time.Now().Add(20 * time.Second); len(addrs) < len(tt.want); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("listening lines %v, want %v:\n%s", addrs, tt.want, stderr.String())
				}
				select {
				case err := <-done:
					t.Fatalf("serve returned %v:\n%s", err, stderr.String())
				default:
				}
				for _, m := range listeningLine.FindAllStringSubmatch(stderr.String(), -1) {
					addrs[m[2]] = m[1]
				}
			}
			check := func(c *http.Client, url string) {
				t.Helper()
				resp, err := c.Get(url)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d", url, resp.StatusCode)
				}
			}
			check(http.DefaultClient, "http://"+addrs["http"]+"/healthz")
			if addr, ok := addrs["https"]; ok {
				ca, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
				if err != nil {
					t.Fatal(err)
				}
				roots := x509.NewCertPool()
				roots.AppendCertsFromPEM(ca)
				check(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}, "https://"+addr+"/healthz")
			} else if _, err := os.Stat(filepath.Join(dir, "tls")); err == nil {
				t.Error("a local CA was generated with --tls-addr off")
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("serve did not return after cancel")
			}
		})
	}
}

func TestServeTLSFlagErrors(t *testing.T) {
	for _, args := range [][]string{{"--tls-cert", "cert.pem"}, {"--tls-key", "key.pem"}} {
		err := serve(context.Background(), append([]string{"--data", t.TempDir()}, args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--tls-cert and --tls-key go together") {
			t.Errorf("%v: %v", args, err)
		}
	}
}
