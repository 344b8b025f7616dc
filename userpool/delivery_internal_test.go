package userpool

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
)

// flakySender fails the first fails sends of each code, then counts the
// deliveries.
type flakySender struct {
	mu    sync.Mutex
	fails int
	tries map[string]int
	sent  map[string]int
}

func (f *flakySender) Send(_ context.Context, d Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries[d.Code]++
	if f.tries[d.Code] <= f.fails {
		return errors.New("451 try again later")
	}
	f.sent[d.Code]++
	return nil
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// deliveryService is a Service with sender on a fresh store (or on store,
// to share one between "nodes").
func deliveryService(t *testing.T, store storage.Storage, sender Sender, clk *fakeClock) *Service {
	t.Helper()
	if store == nil {
		var err error
		store, err = sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
	}
	s, err := New(t.Context(), Options{Storage: store, Keys: keys.NewManager(store, keys.Options{}), Sender: sender, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// enqueue queues a message the way a request does.
func enqueue(t *testing.T, s *Service, code string) {
	t.Helper()
	err := s.sendAtomic(t.Context(), func(ctx context.Context, tx storage.Storage) error {
		_, err := s.queue(ctx, tx, storage.User{PoolID: "p", Username: "u"}, KindSignUp, "email", "u@example.com", code, customText{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func onlyMessage(t *testing.T, s *Service) storage.Message {
	t.Helper()
	ms, err := s.store.ListMessages(t.Context(), 0)
	if err != nil || len(ms) != 1 {
		t.Fatalf("messages: %v %v", ms, err)
	}
	return ms[0]
}

func TestDeliveryRetriesWithDoublingDelay(t *testing.T) {
	clk := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &flakySender{fails: 2, tries: map[string]int{}, sent: map[string]int{}}
	s := deliveryService(t, nil, f, clk)
	enqueue(t, s, "111111")
	for i, step := range []struct {
		advance  time.Duration
		attempts int
		sent     bool
	}{
		{0, 1, false},                // fails: next in 15 s
		{14 * time.Second, 1, false}, // not due yet
		{time.Second, 2, false},      // fails: next in 30 s
		{29 * time.Second, 2, false},
		{time.Second, 3, true},
		{time.Hour, 3, true}, // sent once, never again
	} {
		clk.Advance(step.advance)
		s.deliverBatch(t.Context())
		m := onlyMessage(t, s)
		if m.Attempts != step.attempts || m.DoneAt.IsZero() == step.sent {
			t.Fatalf("step %d: %+v", i, m)
		}
		if step.sent && (m.Code != "" || m.LastError != "") {
			t.Fatalf("step %d: a sent message keeps its code or error: %+v", i, m)
		}
		if !step.sent && m.LastError == "" {
			t.Fatalf("step %d: no error recorded: %+v", i, m)
		}
	}
	if f.sent["111111"] != 1 {
		t.Fatalf("delivered %d times", f.sent["111111"])
	}
}

func TestDeliveryGivesUpOnceTheCodeIsStale(t *testing.T) {
	clk := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &flakySender{fails: 1 << 30, tries: map[string]int{}, sent: map[string]int{}}
	s := deliveryService(t, nil, f, clk)
	enqueue(t, s, "222222")
	for clk.Now().Before(time.Date(2030, 1, 2, 1, 0, 0, 0, time.UTC)) {
		s.deliverBatch(t.Context())
		clk.Advance(10 * time.Minute)
	}
	m := onlyMessage(t, s)
	if m.DoneAt.IsZero() || m.Code != "" || m.LastError == "" {
		t.Fatalf("after a day of failures: %+v", m)
	}
	tries := f.tries["222222"]
	s.deliverBatch(t.Context())
	if f.tries["222222"] != tries {
		t.Fatal("a given-up message was tried again")
	}
}

// TestDeliveryOnceAcrossNodes runs two dispatchers ("nodes") on one store
// at once: every message is sent exactly once.
func TestDeliveryOnceAcrossNodes(t *testing.T) {
	clk := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &flakySender{tries: map[string]int{}, sent: map[string]int{}}
	a := deliveryService(t, nil, f, clk)
	b := deliveryService(t, a.store, f, clk)
	const n = 60
	for i := range n {
		enqueue(t, a, string(rune('A'+i%26))+string(rune('a'+i/26)))
	}
	var wg sync.WaitGroup
	for _, s := range []*Service{a, b} {
		wg.Go(func() {
			for s.deliverBatch(t.Context()) > 0 {
			}
		})
	}
	wg.Wait()
	if len(f.sent) != n {
		t.Fatalf("%d of %d messages sent", len(f.sent), n)
	}
	for code, k := range f.sent {
		if k != 1 {
			t.Errorf("message %s sent %d times", code, k)
		}
	}
}
