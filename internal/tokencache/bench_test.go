package tokencache

import (
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// benchToken is the size of a Cognito access token.
var benchToken = strings.Repeat("eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0", 31)[:1070]

// BenchmarkGet is a hit: a seeded hash of a 1 KiB token, a map lookup
// and a comparison.
func BenchmarkGet(b *testing.B) {
	c := New[int](1 << 15)
	c.Put(benchToken, 1, ns(at.Add(time.Hour)), ns(at))
	b.ReportAllocs()
	for b.Loop() {
		if _, found, _ := c.Get(benchToken, ns(at)); !found {
			b.Fatal("miss")
		}
	}
}

// BenchmarkSHA256Key is the design the cache replaced in keys and
// userpool, for comparison with BenchmarkGet: a map keyed by the
// SHA-256 of the token (hashed without a copy, as keys did).
func BenchmarkSHA256Key(b *testing.B) {
	var mu sync.Mutex
	bytes := unsafe.Slice(unsafe.StringData(benchToken), len(benchToken))
	m := map[[sha256.Size]byte]int{sha256.Sum256(bytes): 1}
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(bytes)
		mu.Lock()
		_, found := m[sum]
		mu.Unlock()
		if !found {
			b.Fatal("miss")
		}
	}
}
