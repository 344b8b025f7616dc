package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/events"
)

func TestConnectAuthorization(t *testing.T) {
	h := newHub(t, events.Config{})
	tests := []struct {
		name    string
		auth    events.Headers
		wantErr error
		code    int
		msg     string
	}{
		{"api key", events.Headers{"x-api-key": goodKey}, nil, 0, ""},
		{"api key, header case", events.Headers{"X-Api-Key": goodKey}, nil, 0, ""},
		{"user pool token", token("tok-alice"), nil, 0, ""},
		{"bearer token", token("Bearer tok-alice"), nil, 0, ""},
		{"no credentials", events.Headers{"host": "x"}, events.ErrUnauthorized, 401, "Missing authorization"},
		{"unknown key", events.Headers{"x-api-key": "da2-nope"}, events.ErrUnauthorized, 401, "not authorized"},
		{"forged token", token("forged"), events.ErrUnauthorized, 401, "not authorized"},
		{"expired key", events.Headers{"x-api-key": expiredKey}, events.ErrTokenExpired, 401, "Token expired"},
		{"expired token", token("expired-alice"), events.ErrTokenExpired, 401, "Token expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := h.Connect(context.Background(), "", tc.auth, newTransport())
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				c.Close()
				return
			}
			var e *events.Error
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &e) {
				t.Fatalf("Connect: %v, want %v", err, tc.wantErr)
			}
			if e.Type != events.TypeUnauthorized || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("error %+v, want UnauthorizedException %d %q", e, tc.code, tc.msg)
			}
		})
	}
}

func TestInitAck(t *testing.T) {
	h := newHub(t, events.Config{ConnectionTimeout: events.Duration(42 * time.Second)})
	c, tr := connect(t, h)
	c.Init()
	ack, i := tr.wait(t, 0, ofType("connection_ack"))
	if ack.ConnectionTimeoutMs != 42000 {
		t.Fatalf("connectionTimeoutMs = %d, want 42000", ack.ConnectionTimeoutMs)
	}
	tr.wait(t, i+1, ofType("ka"))
}

func TestSubscribeErrors(t *testing.T) {
	h := newHub(t, events.Config{MaxSubscriptionsPerConnection: 2})
	c, tr := connect(t, h)
	subscribe(t, c, "taken", "/default/a", key())
	subscribe(t, c, "second", "/default/b", key())
	tests := []struct {
		name, id, channel string
		auth              events.Headers
		errType           string
	}{
		{"no id", "", "/default/x", key(), events.TypeBadRequest},
		{"huge id", strings.Repeat("i", 300), "/default/x", key(), events.TypeBadRequest},
		{"invalid channel", "s1", "/default/bad_segment", key(), events.TypeBadRequest},
		{"too many segments", "s2", "/default/a/b/c/d/e", key(), events.TypeBadRequest},
		{"wildcard not last", "s3", "/default/*/a", key(), events.TypeBadRequest},
		{"unknown namespace", "s4", "/nowhere/a", key(), events.TypeBadRequest},
		{"no authorization", "s5", "/default/a", nil, events.TypeUnauthorized},
		{"forged authorization", "s6", "/default/a", token("forged"), events.TypeUnauthorized},
		{"duplicate id", "taken", "/default/c", key(), events.TypeBadRequest},
		{"over the cap", "third", "/default/c", key(), events.TypeLimitExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tr.snapshot())
			err := c.Subscribe(context.Background(), tc.id, tc.channel, tc.auth)
			var e *events.Error
			if !errors.As(err, &e) || e.Type != tc.errType {
				t.Fatalf("Subscribe: %v, want %s", err, tc.errType)
			}
			f, _ := tr.wait(t, n, ofType("subscribe_error"))
			if f.ID != tc.id || f.errType() != tc.errType || f.Errors[0].Message == "" {
				t.Fatalf("frame %+v, want subscribe_error %s for id %q", f, tc.errType, tc.id)
			}
		})
	}
}

func TestUnsubscribe(t *testing.T) {
	h := newHub(t, events.Config{})
	c, tr := connect(t, h)
	subscribe(t, c, "s1", "/default/room", key())
	if err := c.Unsubscribe("s1"); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	_, i := tr.wait(t, 0, func(f frame) bool { return f.Type == "unsubscribe_success" && f.ID == "s1" })
	err := c.Unsubscribe("s1")
	var e *events.Error
	if !errors.As(err, &e) || e.Type != events.TypeUnknownOperation {
		t.Fatalf("second Unsubscribe: %v, want UnknownOperationError", err)
	}
	f, _ := tr.wait(t, i+1, ofType("unsubscribe_error"))
	if f.ID != "s1" || f.errType() != events.TypeUnknownOperation {
		t.Fatalf("got %+v", f)
	}
	if _, err := h.Publish(context.Background(), key(), "/default/room", []string{`1`}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	for _, s := range tr.snapshot() {
		if strings.Contains(s, `"data"`) {
			t.Fatalf("unsubscribed connection got %s", s)
		}
	}
}

func TestPublish(t *testing.T) {
	h := newHub(t, events.Config{})
	big := `"` + strings.Repeat("x", events.MaxEventBytes) + `"`
	tests := []struct {
		name       string
		channel    string
		events     []string
		auth       events.Headers
		errType    string
		code       int
		successful []int
		failed     map[int]string
	}{
		{"one event", "/default/a", []string{`{"a":1}`}, key(), "", 0, []int{0}, nil},
		{"five events, no leading slash", "default/a/", []string{`1`, `2`, `3`, `"4"`, `null`}, key(), "", 0, []int{0, 1, 2, 3, 4}, nil},
		{"user pool token", "/default/a", []string{`1`}, token("tok-bob"), "", 0, []int{0}, nil},
		{"too large and invalid events fail alone", "/default/a", []string{big, `1`, `{nope`}, key(), "", 0, []int{1},
			map[int]string{0: events.TypeEventTooLarge, 2: events.TypeBadRequest}},
		{"six events", "/default/a", []string{`1`, `2`, `3`, `4`, `5`, `6`}, key(), events.TypeBadRequest, 400, nil, nil},
		{"no events", "/default/a", nil, key(), events.TypeBadRequest, 400, nil, nil},
		{"wildcard", "/default/*", []string{`1`}, key(), events.TypeBadRequest, 400, nil, nil},
		{"invalid channel", "/default/a b", []string{`1`}, key(), events.TypeBadRequest, 400, nil, nil},
		{"unknown namespace", "/other/a", []string{`1`}, key(), events.TypeBadRequest, 400, nil, nil},
		{"no authorization", "/default/a", []string{`1`}, events.Headers{}, events.TypeUnauthorized, 401, nil, nil},
		{"forged token", "/default/a", []string{`1`}, token("eyJforged"), events.TypeUnauthorized, 401, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.Publish(context.Background(), tc.auth, tc.channel, tc.events)
			if tc.errType != "" {
				var e *events.Error
				if !errors.As(err, &e) || e.Type != tc.errType || e.Code != tc.code {
					t.Fatalf("Publish: %v, want %s %d", err, tc.errType, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if len(res.Successful) != len(tc.successful) || len(res.Failed) != len(tc.failed) {
				t.Fatalf("result %+v, want successful %v, failed %v", res, tc.successful, tc.failed)
			}
			for i, s := range res.Successful {
				if s.Index != tc.successful[i] || len(s.Identifier) != 36 {
					t.Fatalf("successful[%d] = %+v", i, s)
				}
			}
			for _, f := range res.Failed {
				if tc.failed[f.Index] != f.Code || f.Message == "" || len(f.Identifier) != 36 {
					t.Fatalf("failed %+v, want %v", f, tc.failed)
				}
			}
		})
	}
}

func TestConnPublishFrames(t *testing.T) {
	h := newHub(t, events.Config{})
	c, tr := connect(t, h)
	subscribe(t, c, "sub", "/default/*", key())
	if err := c.Publish(context.Background(), "p1", "/default/room", []string{`{"n":1}`, `{"n":2}`}, key()); err != nil {
		t.Fatal(err)
	}
	f, i := tr.wait(t, 0, ofType("data"))
	if f.ID != "sub" || *f.Event != `{"n":1}` {
		t.Fatalf("first data %+v", f)
	}
	f, _ = tr.wait(t, i+1, ofType("data"))
	if *f.Event != `{"n":2}` {
		t.Fatalf("second data %+v", f)
	}
	ok, _ := tr.wait(t, 0, ofType("publish_success"))
	if ok.ID != "p1" || len(ok.Successful) != 2 || ok.Failed == nil || len(ok.Failed) != 0 {
		t.Fatalf("publish_success %+v", ok)
	}
	c.Publish(context.Background(), "p2", "/default/*", []string{`1`}, key())
	bad, _ := tr.wait(t, 0, ofType("publish_error"))
	if bad.ID != "p2" || bad.errType() != events.TypeBadRequest {
		t.Fatalf("publish_error %+v", bad)
	}
	c.SendError("error", "", events.Unsupported("Unknown message type %q.", "nope"))
	e, _ := tr.wait(t, 0, ofType("error"))
	if e.errType() != events.TypeUnsupported || e.ID != "" {
		t.Fatalf("error %+v", e)
	}
}

func TestWildcardMatching(t *testing.T) {
	h := newHub(t, events.Config{Namespaces: []events.Namespace{{Name: "default"}, {Name: "other"}}})
	tests := []struct {
		pattern string
		gets    []string
	}{
		{"/default/a", []string{"/default/a"}},
		{"/default/*", []string{"/default/a", "/default/a/b", "/default/a/b/c/d", "/default/x"}},
		{"/default/a/*", []string{"/default/a/b", "/default/a/b/c/d"}},
		{"/default/a/b/c/*", []string{"/default/a/b/c/d"}},
	}
	channels := []string{"/default", "/default/a", "/default/a/b", "/default/a/b/c/d", "/default/x"}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			c, tr := connect(t, h)
			subscribe(t, c, "s", tc.pattern, key())
			for _, ch := range channels {
				if _, err := h.Publish(context.Background(), key(), ch, []string{fmt.Sprintf("%q", ch)}); err != nil {
					t.Fatal(err)
				}
			}
			// One connection's frames arrive in publish order: once the
			// marker is there, everything published before it is too.
			subscribe(t, c, "end", "/other/end", key())
			h.Publish(context.Background(), key(), "/other/end", []string{`0`})
			tr.wait(t, 0, func(f frame) bool { return f.Type == "data" && f.ID == "end" })
			var got []string
			for _, s := range tr.snapshot() {
				if i := strings.Index(s, `"event":"\"`); i >= 0 {
					got = append(got, strings.TrimSuffix(s[i+len(`"event":"\"`):], `\""}`))
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.gets, " ") {
				t.Fatalf("%s got %v, want %v", tc.pattern, got, tc.gets)
			}
		})
	}
}

// An event published once Subscribe has returned (subscribe_success is
// queued by then) is delivered, and no data frame of a subscription comes
// before its subscribe_success, even with a publisher running throughout.
func TestFirstEventAfterSubscribeSuccess(t *testing.T) {
	h := newHub(t, events.Config{SendQueueLength: 1 << 16})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				h.Publish(context.Background(), key(), "/default/race", []string{`"noise"`})
				time.Sleep(20 * time.Microsecond)
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	for i := range 200 {
		c, tr := connect(t, h)
		id := fmt.Sprint("s", i)
		subscribe(t, c, id, "/default/race", key())
		marker := fmt.Sprint(i)
		if _, err := h.Publish(context.Background(), key(), "/default/race", []string{marker}); err != nil {
			t.Fatal(err)
		}
		tr.wait(t, 0, func(f frame) bool { return f.Type == "data" && *f.Event == marker })
		_, si := tr.wait(t, 0, ofType("subscribe_success"))
		if _, di := tr.wait(t, 0, ofType("data")); di < si {
			t.Fatalf("data at %d before subscribe_success at %d", di, si)
		}
		c.Close()
	}
}

// TestDeliveryUnderChurn: subscribers that stay get every event exactly
// once and in order while other connections keep subscribing to and
// leaving the same channel (the registry appends to the list a publish
// may be reading, and replaces it on removal).
func TestDeliveryUnderChurn(t *testing.T) {
	h := newHub(t, events.Config{SendQueueLength: 1 << 16})
	const stayers, n = 8, 300
	trs := make([]*transport, stayers)
	for i := range trs {
		var c *events.Conn
		c, trs[i] = connect(t, h)
		subscribe(t, c, "stay", "/default/churn", key())
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				c, _ := connect(t, h)
				subscribe(t, c, "churn", "/default/churn", key())
				if j%2 == w%2 {
					if err := c.Unsubscribe("churn"); err != nil {
						t.Error(err)
					}
				}
				c.Close()
			}
		})
	}
	for i := range n {
		if _, err := h.Publish(context.Background(), key(), "/default/churn", []string{fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	for _, tr := range trs {
		tr.inOrder(t, n)
	}
}

func TestOrderPerConnection(t *testing.T) {
	h := newHub(t, events.Config{})
	c, tr := connect(t, h)
	subscribe(t, c, "s", "/default/seq", key())
	const n = events.DefaultSendQueueLength - 24 // a burst the queue holds
	for i := range n {
		if _, err := h.Publish(context.Background(), key(), "/default/seq", []string{fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	tr.inOrder(t, n)
}

func TestSlowConsumerIsDropped(t *testing.T) {
	h := newHub(t, events.Config{SendQueueLength: 16})
	slow := newTransport()
	slow.block = make(chan struct{})
	sc, err := h.Connect(context.Background(), "", key(), slow)
	if err != nil {
		t.Fatal(err)
	}
	subscribe(t, sc, "slow", "/default/feed", key())
	fast, ftr := connect(t, h)
	subscribe(t, fast, "fast", "/default/feed", key())
	// The fast consumer reads every event before the next is published;
	// the slow one reads nothing, overflows after 16 and is dropped, and
	// publishing never waits for it.
	const n = 100
	start := time.Now()
	for i := range n {
		if _, err := h.Publish(context.Background(), key(), "/default/feed", []string{fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		ftr.wait(t, 0, func(f frame) bool { return f.Type == "data" && *f.Event == fmt.Sprint(i) })
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("publishing took %v: blocked by the slow consumer", d)
	}
	reason := slow.waitClosed(t)
	if !errors.Is(reason, events.ErrSlowConsumer) {
		t.Fatalf("slow consumer closed with %v", reason)
	}
	st := h.Stats()
	if st.SlowConsumers != 1 || st.Dropped == 0 {
		t.Fatalf("stats %+v: want one slow consumer and dropped frames", st)
	}
	select {
	case <-sc.Done():
	case <-time.After(time.Second):
		t.Fatal("slow connection not unregistered")
	}
}

// TestPipelinedRequestsWait: a client that sends many more requests than
// the send queue holds before reading any reply is held back, not
// closed as a slow consumer, and gets every reply in order.
func TestPipelinedRequestsWait(t *testing.T) {
	for _, queue := range []int{16, 1} {
		t.Run(fmt.Sprint("queue ", queue), func(t *testing.T) { pipelined(t, queue) })
	}
}

func pipelined(t *testing.T, queue int) {
	h := newHub(t, events.Config{SendQueueLength: queue})
	tr := newTransport()
	tr.block = make(chan struct{})
	c, err := h.Connect(context.Background(), "", key(), tr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	subscribe := func(i int) error {
		return c.Subscribe(context.Background(), fmt.Sprint("s", i), fmt.Sprint("/default/s", i), key())
	}
	const n = 100 // over six queues' worth
	sent := make(chan int, n)
	go func() {
		defer close(sent)
		for i := range n {
			var err error
			if i%2 == 0 {
				err = c.Publish(context.Background(), fmt.Sprint("p", i), "/default/feed", []string{"1"}, key())
			} else {
				err = subscribe(i)
			}
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			sent <- i
		}
	}()
	// The client reads nothing yet: the requests stop at half the queue.
	time.Sleep(100 * time.Millisecond)
	if got := len(sent); got > 16 {
		t.Fatalf("%d requests handled while no reply could be written", got)
	}
	close(tr.block)
	for range sent {
	}
	f, _ := tr.wait(t, 0, func(f frame) bool { return f.ID == fmt.Sprint("s", n-1) })
	if f.Type != "subscribe_success" {
		t.Fatalf("last reply %+v", f)
	}
	frames := tr.snapshot()
	if len(frames) != n {
		t.Fatalf("%d replies, want %d", len(frames), n)
	}
	for i, raw := range frames {
		var f frame
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint("p", i)
		if i%2 == 1 {
			want = fmt.Sprint("s", i)
		}
		if f.ID != want || f.errType() != "" {
			t.Fatalf("reply %d = %s, want a success for %s", i, raw, want)
		}
	}
	if st := h.Stats(); st.SlowConsumers != 0 {
		t.Fatalf("stats %+v: the pipelining client was taken for a slow consumer", st)
	}
}

func TestTokenExpiryClosesConnection(t *testing.T) {
	tests := []struct {
		name    string
		connect events.Headers
		sub     events.Headers
	}{
		{"connect token", token("short-alice"), key()},
		{"subscribe token", key(), token("short-alice")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, events.Config{})
			tr := newTransport()
			c, err := h.Connect(context.Background(), "", tc.connect, tr)
			if err != nil {
				t.Fatal(err)
			}
			subscribe(t, c, "s", "/default/a", tc.sub)
			start := time.Now()
			f, _ := tr.wait(t, 0, ofType("connection_error"))
			if f.errType() != events.TypeUnauthorized || f.Errors[0].ErrorCode != 401 || !strings.Contains(f.Errors[0].Message, "Token expired") {
				t.Fatalf("connection_error %+v", f)
			}
			if !errors.Is(tr.waitClosed(t), events.ErrTokenExpired) {
				t.Fatal("closed without ErrTokenExpired")
			}
			if d := time.Since(start); d > shortLife+time.Second {
				t.Fatalf("closed after %v", d)
			}
		})
	}
}

func TestConnectionTimeout(t *testing.T) {
	h := newHub(t, events.Config{ConnectionTimeout: events.Duration(100 * time.Millisecond)})
	idle, itr := connect(t, h)
	_ = idle
	inited, atr := connect(t, h)
	inited.Init()
	f, _ := itr.wait(t, 0, ofType("connection_error"))
	if f.errType() != events.TypeConnectionTimeout {
		t.Fatalf("got %+v", f)
	}
	if !errors.Is(itr.waitClosed(t), events.ErrConnectionTimeout) {
		t.Fatal("wrong close reason")
	}
	select {
	case <-atr.closed:
		t.Fatal("an initialized connection was closed")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestConnectionCap(t *testing.T) {
	h := newHub(t, events.Config{MaxConnections: 2})
	connect(t, h)
	c2, _ := connect(t, h)
	_, err := h.Connect(context.Background(), "", key(), newTransport())
	if !errors.Is(err, events.ErrLimitExceeded) {
		t.Fatalf("third Connect: %v, want ErrLimitExceeded", err)
	}
	c2.Close()
	<-c2.Done()
	connect(t, h)
	if got := h.Stats().Connections; got != 2 {
		t.Fatalf("Connections = %d, want 2", got)
	}
}

func TestShutdownDrains(t *testing.T) {
	h, err := events.New(context.Background(), events.Config{}, events.Options{APIKeys: apiKeys})
	if err != nil {
		t.Fatal(err)
	}
	c, tr := connect(t, h)
	subscribe(t, c, "s", "/default/a", key())
	if _, err := h.Publish(context.Background(), key(), "/default/a", []string{`"last"`}); err != nil {
		t.Fatal(err)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr.wait(t, 0, ofType("data"))
	if !errors.Is(tr.waitClosed(t), events.ErrClosed) {
		t.Fatal("connections closed without ErrClosed")
	}
	if _, err := h.Connect(context.Background(), "", key(), newTransport()); !errors.Is(err, events.ErrClosed) {
		t.Fatalf("Connect after Shutdown: %v", err)
	}
	if _, err := h.Publish(context.Background(), key(), "/default/a", []string{`1`}); !errors.Is(err, events.ErrClosed) {
		t.Fatalf("Publish after Shutdown: %v", err)
	}
}
