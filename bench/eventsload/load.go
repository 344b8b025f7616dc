package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// meter collects what subscribers see. One meter serves the whole run;
// reset clears it between phases.
type meter struct {
	phase     atomic.Int64 // driver clock at reset: older events are stale
	seen      atomic.Int64 // data messages carrying a driver event, stale ones too
	stale     atomic.Int64 // events published before the phase began
	delivered atomic.Int64 // data messages carrying an event of this phase
	winStart  atomic.Int64 // measured window, driver clock
	winEnd    atomic.Int64
	inWindow  atomic.Int64 // deliveries received inside the window
	lat       atomic.Pointer[hist]
	reordered atomic.Int64 // an event at or before the subscriber's last one
	dead      atomic.Int64 // subscriber connections lost outside a shutdown
	protoErrs atomic.Int64 // messages with errors, unparseable events
	firstErr  atomic.Pointer[string]
}

func (m *meter) reset() {
	m.phase.Store(clock())
	m.stale.Store(0)
	m.delivered.Store(0)
	m.inWindow.Store(0)
	m.winStart.Store(1<<62 - 1)
	m.winEnd.Store(1<<62 - 1)
	m.lat.Store(&hist{})
	m.reordered.Store(0)
	m.protoErrs.Store(0)
	m.firstErr.Store(nil)
}

func (m *meter) fail(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	m.firstErr.CompareAndSwap(nil, &s)
}

func (m *meter) err() string {
	if p := m.firstErr.Load(); p != nil {
		return *p
	}
	return ""
}

// The event a publisher sends is the JSON object
// {"t":<send time, driver clock ns>,"s":<sequence>,"p":"xxx…"} padded to
// the event size; inside a data message it is a JSON string, so its
// quotes arrive escaped.
var (
	markT = []byte(`\"t\":`)
	markS = []byte(`,\"s\":`)
)

// parseEvent finds the send time and sequence in a data message.
func parseEvent(p []byte) (t int64, seq uint64, ok bool) {
	i := bytes.Index(p, markT)
	if i < 0 {
		return 0, 0, false
	}
	p = p[i+len(markT):]
	t, p, ok = digits(p)
	if !ok || !bytes.HasPrefix(p, markS) {
		return 0, 0, false
	}
	s, _, ok := digits(p[len(markS):])
	return t, uint64(s), ok
}

func digits(p []byte) (int64, []byte, bool) {
	var v int64
	i := 0
	for ; i < len(p) && p[i] >= '0' && p[i] <= '9' && i < 18; i++ {
		v = v*10 + int64(p[i]-'0')
	}
	return v, p[i:], i > 0
}

// appendEvent appends the escaped event (as it sits inside a JSON string)
// whose unescaped form is size bytes long.
func appendEvent(b []byte, t int64, seq uint64, size int) []byte {
	b = append(b, `{\"t\":`...)
	n0 := len(b)
	b = strconv.AppendInt(b, t, 10)
	dt := len(b) - n0
	b = append(b, markS...)
	n0 = len(b)
	b = strconv.AppendUint(b, seq, 10)
	ds := len(b) - n0
	b = append(b, `,\"p\":\"`...)
	for range max(size-18-dt-ds, 0) {
		b = append(b, 'x')
	}
	return append(b, `\"}`...)
}

// subscriber is one connection subscribed to one channel.
type subscriber struct {
	c       *wsConn
	lastSeq uint64
	closing atomic.Bool
}

// run reads until the connection ends, counting deliveries into m: the
// goroutine-per-connection reader (-reader goroutine).
func (s *subscriber) run(m *meter) {
	for {
		_, p, err := s.c.next()
		if err != nil {
			s.lost(m, err)
			return
		}
		s.onMessage(p, s.c.readAt, m)
	}
}

func (s *subscriber) lost(m *meter, err error) {
	if !s.closing.Load() {
		m.dead.Add(1)
		m.fail("subscriber connection lost: %v", err)
	}
}

// onMessage counts one message received at now (driver clock).
func (s *subscriber) onMessage(p []byte, now int64, m *meter) {
	t, seq, ok := parseEvent(p)
	if !ok {
		s.other(p, m)
		return
	}
	m.seen.Add(1)
	if t < m.phase.Load() {
		m.stale.Add(1)
		return
	}
	m.delivered.Add(1)
	if now >= m.winStart.Load() && now < m.winEnd.Load() {
		m.inWindow.Add(1)
	}
	if t >= m.winStart.Load() && t < m.winEnd.Load() {
		m.lat.Load().record(time.Duration(now - t))
	}
	if seq <= s.lastSeq {
		m.reordered.Add(1)
	}
	s.lastSeq = seq
}

// other handles a message that carries no driver event: keep-alives are
// expected, anything with errors is counted.
func (s *subscriber) other(p []byte, m *meter) {
	if bytes.Contains(p, []byte(`"ka"`)) {
		return
	}
	m.protoErrs.Add(1)
	m.fail("subscriber got %.300s", p)
}

func (s *subscriber) close() {
	s.closing.Store(true)
	s.c.shutdown()
}

// reader reads the subscribers' connections once they are subscribed:
// an epoller, or a goroutine per connection.
type reader interface {
	add(s *subscriber) error
	closeAll(subs []*subscriber)
	stop()
}

type goReader struct{ m *meter }

func (g goReader) add(s *subscriber) error {
	go s.run(g.m)
	return nil
}

func (goReader) closeAll(subs []*subscriber) {
	for _, s := range subs {
		if s != nil {
			s.close()
		}
	}
}

func (goReader) stop() {}

// connectStats describes a batch of connections opened and subscribed.
type connectStats struct {
	n       int
	elapsed time.Duration
	lat     *hist
}

// connectAll opens n connections with conc workers, each doing
// connection_init → connection_ack → subscribe → subscribe_success, and
// starts their readers. channel(i) names connection i's channel.
func connectAll(ctx context.Context, d *dialer, n, conc int, channel func(int) string, rd reader) ([]*subscriber, connectStats, error) {
	subs := make([]*subscriber, n)
	st := connectStats{n: n, lat: &hist{}}
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, conc)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				s, err := subscribe(ctx, d, i, channel(i))
				if err != nil {
					errc <- fmt.Errorf("connection %d: %w", i, err)
					cancel()
					return
				}
				st.lat.record(time.Since(t0))
				subs[i] = s
				if err := rd.add(s); err != nil {
					errc <- fmt.Errorf("connection %d: %w", i, err)
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	close(errc)
	if err := <-errc; err != nil {
		rd.closeAll(subs)
		return nil, st, err
	}
	return subs, st, nil
}

func subscribe(ctx context.Context, d *dialer, i int, channel string) (*subscriber, error) {
	c, err := d.dialInit(ctx, i)
	if err != nil {
		return nil, err
	}
	msg := fmt.Appendf(nil, `{"type":"subscribe","id":"%s","channel":"%s","authorization":%s}`, uuid(i), channel, d.auth)
	if err := c.send(msg); err != nil {
		c.nc.Close()
		return nil, err
	}
	if err := c.await(`"subscribe_success"`, d.timeout); err != nil {
		c.nc.Close()
		return nil, err
	}
	return &subscriber{c: c}, nil
}

// uuid is a fixed UUID-shaped subscription id for connection i, as long
// as the random ones Amplify sends.
func uuid(i int) string {
	return fmt.Sprintf("5b5c41b0-e000-4000-8000-%012x", i)
}
