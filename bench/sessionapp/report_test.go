package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/issuerclient"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		if got := median(append([]float64(nil), tc.in...)); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

const goBenchOut = `goos: linux
pkg: github.com/cognate-auth/cognate/session
BenchmarkFirstSight      	   12052	     98000 ns/op	   15633 B/op	     179 allocs/op
BenchmarkMiddlewareRatio 	   13911	     85680 ns/op	     41587 bare-ns/req	     43964 mw-ns/req	         0.9459 rps-ratio
BenchmarkFirstSight      	   12052	    102000 ns/op	   15633 B/op	     179 allocs/op
BenchmarkFirstSight      	   12052	    100000 ns/op	   15633 B/op	     179 allocs/op
BenchmarkBroken notanumber 1 ns/op
PASS
`

func TestParseGoBench(t *testing.T) {
	got := parseGoBench(goBenchOut)
	if len(got) != 2 || got[0].name != "BenchmarkFirstSight" || got[1].name != "BenchmarkMiddlewareRatio" {
		t.Fatalf("parsed %d benchmarks: %+v", len(got), got)
	}
	if m := median(got[0].metrics["ns/op"]); m != 100000 {
		t.Errorf("FirstSight median ns/op = %v", m)
	}
	if r := got[1].metrics["rps-ratio"]; len(r) != 1 || r[0] != 0.9459 {
		t.Errorf("rps-ratio = %v", r)
	}
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	// Two rounds; in round 2 everything is half as fast (a busy machine),
	// which per-run ratios cancel out.
	results := strings.Join([]string{
		`{"run":1,"target":"go-bare","requests":500000,"duration_us":10000000,"errors":0,"p50_us":200,"p99_us":900,"server_cpu_s":10,"driver_cpu_s":6,"core_busy_s":10.5,"core_softirq_s":0.3}`,
		`{"run":1,"target":"go-mw","requests":450000,"duration_us":10000000,"errors":0,"p50_us":220,"p99_us":950,"server_cpu_s":10,"driver_cpu_s":6,"core_busy_s":10.2}`,
		`{"run":1,"target":"node-bare","requests":200000,"duration_us":10000000,"errors":0,"p50_us":400,"p99_us":1200,"server_cpu_s":10,"driver_cpu_s":3}`,
		`{"run":1,"target":"node-mw","requests":50000,"duration_us":10000000,"errors":0,"p50_us":1600,"p99_us":3000,"server_cpu_s":10,"driver_cpu_s":1}`,
		``,
		`{"run":2,"target":"go-bare","requests":250000,"duration_us":10000000,"errors":0,"p50_us":400,"p99_us":1800,"server_cpu_s":10,"driver_cpu_s":3,"core_busy_s":10.5,"core_softirq_s":0.3}`,
		`{"run":2,"target":"go-mw","requests":225000,"duration_us":10000000,"errors":0,"p50_us":440,"p99_us":1900,"server_cpu_s":10,"driver_cpu_s":3}`,
	}, "\n")
	rp := filepath.Join(dir, "results.jsonl")
	bp := filepath.Join(dir, "gobench.txt")
	if err := os.WriteFile(rp, []byte(results), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bp, []byte(goBenchOut), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := run(t.Context(), []string{"-table", rp, "-gobench", bp}, &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"| go-bare | 37500 (25000–50000) |",
		"| 30.0 (20.0–40.0) µs |",
		"| 100 (100–100) % (3 %) | 5 (5–5) % |",
		"| Go: middleware / bare | 0.900 (0.900–0.900) | 0.900 (0.900–0.900) | 0.900, 1 of 2 | ≥ 0.9 |",
		"| Node: aws-jwt-verify / bare | 0.250 | 0.250 | none |",
		"| Go middleware / Node aws-jwt-verify | 9.000 | 9.000 |",
		"(2 rounds from 1 results file(s); undisturbed:",
		"| FirstSight | 100000 (98000–102000) | 15633 B/op, 179 allocs/op |",
		"0.946 rps-ratio",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestReportFiles pools the rounds of several results files, keeping
// rounds of the same number in different files apart.
func TestReportFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	line := func(target string, requests int) string {
		return fmt.Sprintf(`{"run":1,"target":%q,"requests":%d,"duration_us":1000000,"server_cpu_s":1,"core_busy_s":1}`, target, requests)
	}
	if err := os.WriteFile(a, []byte(line("go-bare", 1000)+"\n"+line("go-mw", 800)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte(line("go-bare", 1000)+"\n"+line("go-mw", 950)), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report(&buf, a+","+b, ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 0.875 (0.800–0.950) |", "0.875 (0.800–0.950), 2 of 2", "(2 rounds from 2 results file(s);"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestReportBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content string }{
		{"not JSON", "{"},
		{"unknown target", `{"run":1,"target":"python","requests":1,"duration_us":1}`},
		{"no duration", `{"run":1,"target":"go-mw","requests":1,"duration_us":0}`},
		{"empty", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "r.jsonl")
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := report(&bytes.Buffer{}, p, ""); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestCookieHeader(t *testing.T) {
	tok := func(user string) *issuerclient.Tokens {
		// {"username":"<user>"} base64url-encoded by hand for the two cases.
		payload := map[string]string{"alice-1": "eyJ1c2VybmFtZSI6ImFsaWNlLTEifQ", "a@b.com": "eyJ1c2VybmFtZSI6ImFAYi5jb20ifQ"}[user]
		return &issuerclient.Tokens{AccessToken: "h." + payload + ".s", IDToken: "i", RefreshToken: "r"}
	}
	got, err := cookieHeader("cid", tok("alice-1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"CognitoIdentityServiceProvider.cid.LastAuthUser=alice-1",
		"CognitoIdentityServiceProvider.cid.alice-1.accessToken=h.",
		"CognitoIdentityServiceProvider.cid.alice-1.idToken=i",
		"CognitoIdentityServiceProvider.cid.alice-1.refreshToken=r",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("cookie header lacks %q: %s", want, got)
		}
	}
	if _, err := cookieHeader("cid", tok("a@b.com")); err == nil {
		t.Error("a username that needs encoding was accepted")
	}
}
