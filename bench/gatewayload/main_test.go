package main

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The hand-written client reads both bodies the benchmark meets,
// Content-Length and chunked, on one keep-alive connection, and sees
// /stream's chunks arrive apart.
func TestClientReadsTheAppsAnswers(t *testing.T) {
	ts := httptest.NewServer(upstream(10, 2*time.Millisecond))
	defer ts.Close()
	u, _ := url.Parse(ts.URL)
	c, err := dial(u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		res, err := c.roundTrip(request(u, "/hello", "a=b"), true)
		if err != nil || res.status != 200 || string(res.body) != string(helloBody) {
			t.Fatalf("/hello: %v %d %q", err, res.status, res.body)
		}
		res, err = c.roundTrip(request(u, "/stream", ""), true)
		if err != nil || res.status != 200 || string(res.body) != strings.Repeat(string(chunkBody), 10) {
			t.Fatalf("/stream: %v %d %d bytes", err, res.status, len(res.body))
		}
		if res.last-res.first < 15*time.Millisecond {
			t.Fatalf("first chunk at %v, last at %v: not streamed", res.first, res.last)
		}
	}
	if res, err := c.roundTrip(request(u, "/nothing", ""), false); err != nil || res.status != 404 {
		t.Fatalf("/nothing: %v %d", err, res.status)
	}
}

func TestSpread(t *testing.T) {
	if got := spread([]float64{3, 1, 2}, "%.0f"); got != "2 (1–3)" {
		t.Fatal(got)
	}
	if got := spread(nil, "%.0f"); got != "–" {
		t.Fatal(got)
	}
}
