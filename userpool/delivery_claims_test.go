package userpool

// Tests that back claims of docs/SECURITY.md which no other test proves.

import (
	"testing"
	"time"
)

// TestDeliveryRetryDelayCapsAtThirtyMinutes: a message the relay keeps
// refusing is retried after 15 s, then after double the last delay each
// time, never more than 30 minutes apart.
func TestDeliveryRetryDelayCapsAtThirtyMinutes(t *testing.T) {
	clk := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &flakySender{fails: 1 << 30, tries: map[string]int{}, sent: map[string]int{}}
	s := deliveryService(t, nil, f, clk)
	enqueue(t, s, "333333")
	want := 15 * time.Second
	for i := range 12 {
		s.deliverBatch(t.Context())
		m := onlyMessage(t, s)
		if got := m.NextAttemptAt.Sub(clk.Now()); got != want {
			t.Fatalf("after attempt %d: next in %v, want %v", i+1, got, want)
		}
		clk.Advance(want)
		want = min(2*want, 30*time.Minute)
	}
}
