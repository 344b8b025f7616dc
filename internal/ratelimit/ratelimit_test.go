package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestBurstThenRefill(t *testing.T) {
	now := time.Unix(0, 0)
	l := &Limiter{Rate: 2, Burst: 3, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow(t.Context(), "a"); !ok {
			t.Fatalf("burst event %d refused", i)
		}
	}
	ok, wait := l.Allow(t.Context(), "a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("4th event: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.Allow(t.Context(), "b"); !ok {
		t.Fatal("another key was limited")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.Allow(t.Context(), "a"); !ok {
		t.Fatal("refilled token refused")
	}
	if ok, _ := l.Allow(t.Context(), "a"); ok {
		t.Fatal("allowed beyond refill")
	}
}

func TestDisabledAndNil(t *testing.T) {
	var l *Limiter
	if ok, _ := l.Allow(t.Context(), "x"); !ok {
		t.Fatal("nil limiter refused")
	}
	if ok, _ := (&Limiter{}).Allow(t.Context(), "x"); !ok {
		t.Fatal("zero-rate limiter refused")
	}
}

func TestMemoryBounded(t *testing.T) {
	now := time.Unix(0, 0)
	l := &Limiter{Rate: 1, Burst: 1, MaxKeys: 100, Now: func() time.Time { return now }}
	for i := 0; i < 1000; i++ {
		l.Allow(t.Context(), fmt.Sprint("k", i))
		if len(l.buckets) > 100 {
			t.Fatalf("table grew to %d", len(l.buckets))
		}
	}
}
