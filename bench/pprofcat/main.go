// Command pprofcat splits a CPU profile's server-side samples into
// categories — storage, crypto, JSON, HTTP, GC … — so that a benchmark's
// cost can be read at a glance. It reads `go tool pprof -traces` output:
//
//	go tool pprof -traces cognitoapi.test cpu.prof | go run ./bench/pprofcat
//
// A sample belongs to the first category met walking its stack from the
// leaf up, skipping generic frames (runtime allocation, sync, strconv …),
// so allocation is charged to whatever allocated. Samples of the
// benchmark harness (fixture set-up, the test's SRP client, the signing
// floor) are left out; GC's background workers are kept, as the server
// pays for them.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

type category struct {
	name     string
	prefixes []string
}

// Order matters only among categories whose frames nest: the leaf-most
// match wins.
var categories = []category{
	{"crypto: RSA signing (crypto/rsa, fips140 bigmod)", []string{"crypto/rsa.", "crypto/internal/fips140/rsa.", "crypto/internal/fips140/bigmod."}},
	{"crypto: SRP big numbers (math/big)", []string{"math/big."}},
	{"crypto: SHA-256 / HMAC", []string{"crypto/sha256.", "crypto/hmac.", "crypto/internal/fips140/sha256.", "crypto/internal/fips140/hmac."}},
	{"crypto: AES-GCM (sealed SRP state)", []string{"crypto/aes.", "crypto/cipher.", "crypto/internal/fips140/aes"}},
	{"crypto: random", []string{"crypto/rand.", "crypto/internal/fips140/drbg.", "crypto/internal/sysrand", "github.com/google/uuid."}},
	{"storage: SQLite engine (modernc.org/sqlite, libc)", []string{"modernc.org/sqlite", "modernc.org/libc", "modernc.org/memory"}},
	{"storage: database/sql + storage/sqlite", []string{"database/sql", "github.com/cognate-auth/cognate/storage"}},
	{"JSON (encoding/json)", []string{"encoding/json."}},
	{"base64", []string{"encoding/base64."}},
	{"HTTP (net/http, httptest, textproto)", []string{"net/http", "net/textproto.", "net/url.", "mime."}},
	{"metrics + logging (prometheus, slog)", []string{"github.com/prometheus", "log/slog.", "github.com/cognate-auth/cognate/reqid."}},
	{"network I/O (sockets)", []string{"internal/poll.", "net."}},
}

// generic frames are skipped when classifying.
var generic = []string{
	"runtime.", "internal/", "sync.", "sync/atomic.", "strconv.", "strings.", "bytes.", "unicode", "reflect.",
	"sort.", "slices.", "maps.", "fmt.", "errors.", "math.", "time.", "context.", "io.", "hash.", "encoding/binary.", "encoding/hex.",
	"syscall.", // charged to the caller: SQLite's file I/O, or the network
}

// harness frames mark samples that are not the server's work: the
// benchmark's own functions and the test's SRP client.
var harness = []string{
	"cognitoapi_test.newFixture", "cognitoapi_test.signFloor", "cognitoapi_test.poolKey", "cognitoapi_test.mustJSON",
	"cognitoapi_test.(*fixture).passwordSignIn", "cognitoapi_test.refreshTokenOf", "cognitoapi_test.cpuTime",
	"srp.(*Client)", "srp.NewClient", "testing.(*B).StopTimer", "testing.(*B).StartTimer",
}

func main() {
	samples, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pprofcat:", err)
		os.Exit(1)
	}
	totals := map[string]time.Duration{}
	var server, harnessed time.Duration
	for _, s := range samples {
		if isHarness(s.stack) {
			harnessed += s.value
			continue
		}
		server += s.value
		totals[classify(s.stack)] += s.value
	}
	type row struct {
		name string
		d    time.Duration
	}
	var rows []row
	for n, d := range totals {
		rows = append(rows, row{n, d})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].d > rows[j].d })
	fmt.Printf("server-side samples: %s (harness left out: %s)\n", server, harnessed)
	fmt.Println("| category | CPU | share |")
	fmt.Println("|---|---:|---:|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %.1f%% |\n", r.name, r.d, 100*float64(r.d)/float64(server))
	}
}

type sample struct {
	value time.Duration
	stack []string // leaf first
}

// parse reads pprof's -traces text: blocks separated by dashed lines,
// each starting with the sample value and then one frame per line.
func parse(r io.Reader) ([]sample, error) {
	var out []sample
	var cur *sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			if cur != nil {
				out = append(out, *cur)
			}
			cur = &sample{}
			continue
		}
		if cur == nil {
			continue // header
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(cur.stack) == 0 && cur.value == 0 && len(fields) >= 2 {
			d, err := parseDuration(fields[0])
			if err != nil {
				return nil, fmt.Errorf("sample value %q: %w", fields[0], err)
			}
			cur.value = d
			fields = fields[1:]
		}
		cur.stack = append(cur.stack, strings.Join(fields, " "))
	}
	if cur != nil && cur.value > 0 {
		out = append(out, *cur)
	}
	return out, sc.Err()
}

func parseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	n, err := strconv.ParseFloat(s, 64)
	return time.Duration(n), err
}

func isHarness(stack []string) bool {
	for _, f := range stack {
		for _, h := range harness {
			if strings.Contains(f, h) {
				return true
			}
		}
	}
	return false
}

func classify(stack []string) string {
	for _, f := range stack {
		if strings.HasPrefix(f, "runtime.gcBgMarkWorker") {
			return "GC (background mark workers)"
		}
	}
	for _, f := range stack {
		for _, c := range categories {
			for _, p := range c.prefixes {
				if strings.HasPrefix(f, p) {
					return c.name
				}
			}
		}
		if !hasAnyPrefix(f, generic) {
			return "other (Cognate's own code, benchmark loop)"
		}
	}
	return "runtime (scheduler, allocation outside any category)"
}

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
