package eventsapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/eventsapi"
)

func TestHTTPPublish(t *testing.T) {
	s := newServer(t, nil)
	key := map[string]string{"x-api-key": apiKey}
	alice := map[string]string{"authorization": "tok-alice"}
	tests := []struct {
		name    string
		body    string
		header  map[string]string
		status  int
		errType string
		ok      int // successful events
		failed  int
	}{
		{"api key", `{"channel":"/default/room","events":["{\"a\":1}","2"]}`, key, 200, "", 2, 0},
		{"user pool token, no leading slash", `{"channel":"users/alice-sub/inbox","events":["1"]}`, alice, 200, "", 1, 0},
		{"bearer token", `{"channel":"/users/alice-sub/inbox","events":["1"]}`, map[string]string{"Authorization": "Bearer tok-alice"}, 200, "", 1, 0},
		{"invalid JSON event fails alone", `{"channel":"/default/room","events":["{","1"]}`, key, 200, "", 1, 1},
		{"no authorization", `{"channel":"/default/room","events":["1"]}`, nil, 401, events.TypeUnauthorized, 0, 0},
		{"forged token", `{"channel":"/default/room","events":["1"]}`, map[string]string{"authorization": "eyJ.forged.sig"}, 401, events.TypeUnauthorized, 0, 0},
		{"unknown key", `{"channel":"/default/room","events":["1"]}`, map[string]string{"x-api-key": "da2-nope"}, 401, events.TypeUnauthorized, 0, 0},
		{"another user's channel", `{"channel":"/users/bob-sub/inbox","events":["1"]}`, alice, 403, events.TypeUnauthorized, 0, 0},
		{"six events", `{"channel":"/default/room","events":["1","2","3","4","5","6"]}`, key, 400, events.TypeBadRequest, 0, 0},
		{"no events", `{"channel":"/default/room","events":[]}`, key, 400, events.TypeBadRequest, 0, 0},
		{"wildcard channel", `{"channel":"/default/*","events":["1"]}`, key, 400, events.TypeBadRequest, 0, 0},
		{"invalid channel", `{"channel":"/default/a_b","events":["1"]}`, key, 400, events.TypeBadRequest, 0, 0},
		{"non-string event", `{"channel":"/default/room","events":[1]}`, key, 400, events.TypeBadRequest, 0, 0},
		{"body not JSON", `channel=x`, key, 400, events.TypeBadRequest, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := s.post(t, tc.body, tc.header)
			if status != tc.status || errorType(body) != tc.errType {
				t.Fatalf("status %d body %v, want %d %s", status, body, tc.status, tc.errType)
			}
			if got := hdr.Get("x-amzn-ErrorType"); got != tc.errType {
				t.Fatalf("x-amzn-ErrorType = %q, want %q", got, tc.errType)
			}
			if tc.errType != "" {
				return
			}
			ok, _ := body["successful"].([]any)
			failed, _ := body["failed"].([]any)
			if len(ok) != tc.ok || len(failed) != tc.failed || body["failed"] == nil {
				t.Fatalf("body %v, want %d successful, %d failed", body, tc.ok, tc.failed)
			}
		})
	}
}

func TestHTTPPublishLimits(t *testing.T) {
	s := newServer(t, nil)
	big := strings.Repeat("x", eventsapi.MaxPublishBytes)
	status, body, _ := s.post(t, fmt.Sprintf(`{"channel":"/default/a","events":["%s"]}`, big), map[string]string{"x-api-key": apiKey})
	if status != http.StatusRequestEntityTooLarge || errorType(body) != events.TypeBadRequest {
		t.Fatalf("oversized body: %d %v", status, body)
	}
	tooLarge := fmt.Sprintf("%q", strings.Repeat("y", events.MaxEventBytes))
	status, body, _ = s.post(t, fmt.Sprintf(`{"channel":"/default/a","events":[%q,"1"]}`, tooLarge), map[string]string{"x-api-key": apiKey})
	failed, _ := body["failed"].([]any)
	if status != 200 || len(failed) != 1 || failed[0].(map[string]any)["code"] != events.TypeEventTooLarge {
		t.Fatalf("oversized event: %d %v", status, body)
	}
	for _, method := range []string{http.MethodGet, http.MethodPut} {
		req, _ := http.NewRequest(method, s.srv.URL+eventsapi.PublishPath, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST, OPTIONS" {
			t.Fatalf("%s: %d, Allow %q", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

func TestCORS(t *testing.T) {
	tests := []struct {
		name      string
		origins   []string
		origin    string
		status    int
		allowedAs string
	}{
		{"any origin", nil, "https://app.test", 204, "*"},
		{"listed origin", []string{"app.test"}, "https://app.test", 204, "https://app.test"},
		{"other origin", []string{"app.test"}, "https://evil.test", 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, nil, tc.origins...)
			req, _ := http.NewRequest(http.MethodOptions, s.srv.URL+eventsapi.PublishPath, nil)
			req.Header.Set("Origin", tc.origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "x-api-key,content-type,x-amz-user-agent")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Access-Control-Allow-Origin") != tc.allowedAs {
				t.Fatalf("preflight %d, allow-origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
			if tc.status != 204 {
				return
			}
			allowed := resp.Header.Get("Access-Control-Allow-Headers")
			for _, h := range []string{"x-api-key", "authorization", "content-type", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "x-amz-user-agent"} {
				if !strings.Contains(allowed, h) {
					t.Fatalf("Access-Control-Allow-Headers %q lacks %s", allowed, h)
				}
			}
			if !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
				t.Fatal("POST not allowed")
			}
			_, _, h := s.post(t, `{"channel":"/default/a","events":["1"]}`, map[string]string{"x-api-key": apiKey, "Origin": tc.origin})
			if h.Get("Access-Control-Allow-Origin") != tc.allowedAs {
				t.Fatalf("POST allow-origin %q", h.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	s := newServer(t, nil)
	c := s.connect(t, keyAuth())
	c.subscribe("s", "/default/a", keyAuth())
	s.post(t, `{"channel":"/default/a","events":["1","2"]}`, map[string]string{"x-api-key": apiKey})
	c.expect("data")
	c.expect("data")
	s.post(t, `{"channel":"/default/a","events":["1"]}`, nil)
	want := map[string]float64{
		"cognate_events_connections":                                                    1,
		"cognate_events_subscriptions":                                                  1,
		"cognate_events_deliveries_total":                                               2,
		"cognate_events_published_total":                                                2,
		"cognate_events_publish_errors_total":                                           1,
		"cognate_events_dropped_total":                                                  0,
		"cognate_events_slow_consumers_total":                                           0,
		`cognate_events_errors_total{operation="publish",type="UnauthorizedException"}`: 1,
	}
	// A delivery is counted once its frame is written, which the client
	// may see first: give the writer a moment.
	var wrong []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		families, err := s.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range families {
			for _, m := range mf.GetMetric() {
				name := mf.GetName()
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				if len(labels) > 0 {
					name += "{" + strings.Join(labels, ",") + "}"
				}
				got[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
		wrong = wrong[:0]
		for name, v := range want {
			if g, ok := got[name]; !ok || g != v {
				wrong = append(wrong, fmt.Sprintf("%s = %v (present %v), want %v", name, g, ok, v))
			}
		}
		if len(wrong) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, w := range wrong {
		t.Error(w)
	}
}
