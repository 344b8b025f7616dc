package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// publisher is one WebSocket connection that publishes with `publish`
// messages, each carrying its own authorization object, and reads the
// publish_success answers on the same connection.
type publisher struct {
	id      int
	c       *wsConn
	auth    []byte
	size    int
	seq     uint64
	rr      int
	buf     []byte
	msg     []byte
	sent    atomic.Int64 // publish messages written
	acked   atomic.Int64 // answers received
	closing atomic.Bool
}

func dialPublisher(ctx context.Context, d *dialer, id, size int) (*publisher, error) {
	c, err := d.dialInit(ctx, id)
	if err != nil {
		return nil, err
	}
	return &publisher{id: id, c: c, auth: d.auth, size: size}, nil
}

// run reads the answers to this publisher's messages until the
// connection ends.
func (p *publisher) run(m *meter) {
	for {
		_, msg, err := p.c.next()
		if err != nil {
			if !p.closing.Load() {
				m.fail("publisher %d connection lost: %v", p.id, err)
				m.protoErrs.Add(1)
			}
			return
		}
		switch {
		case bytes.Contains(msg, []byte(`"publish_success"`)):
			p.acked.Add(1)
			if bytes.Contains(msg, []byte(`"failed":[{`)) {
				m.protoErrs.Add(1)
				m.fail("publish failed: %.300s", msg)
			}
		case bytes.Contains(msg, []byte(`"ka"`)):
		default:
			p.acked.Add(1)
			m.protoErrs.Add(1)
			m.fail("publisher got %.300s", msg)
		}
	}
}

// publish writes k publish messages, one event each, to channels in turn,
// in one write.
func (p *publisher) publish(channels []string, k int) error {
	b := p.buf[:0]
	now := clock()
	for range k {
		p.seq++
		ch := channels[p.rr]
		p.rr = (p.rr + 1) % len(channels)
		m := append(p.msg[:0], `{"type":"publish","id":"`...)
		m = strconv.AppendInt(m, int64(p.id), 10)
		m = append(m, '-')
		m = strconv.AppendUint(m, p.seq, 10)
		m = append(m, `","channel":"`...)
		m = append(m, ch...)
		m = append(m, `","events":["`...)
		m = appendEvent(m, now, p.seq, p.size)
		m = append(m, `"],"authorization":`...)
		m = append(m, p.auth...)
		m = append(m, '}')
		p.msg = m
		b = appendFrame(b, m)
	}
	p.buf = b
	p.sent.Add(int64(k))
	if _, err := p.c.nc.Write(b); err != nil {
		return fmt.Errorf("publisher %d: %w", p.id, err)
	}
	return nil
}

// pubPlan is how publishers drive one phase.
type pubPlan struct {
	fanout int64   // deliveries per event
	budget int64   // closed loop: most deliveries in flight (published, not yet received)
	window int64   // closed loop: most publishes of one publisher not yet answered
	rate   float64 // open loop when > 0: events per second of each publisher
	batch  int     // most publish messages per write
}

// drive publishes to channels until ctx is done. total counts the
// events of all publishers in the phase; m.delivered closes the loop.
func (p *publisher) drive(ctx context.Context, plan pubPlan, channels []string, total *atomic.Int64, m *meter) error {
	if plan.rate > 0 {
		return p.paced(ctx, plan.rate, plan.batch, channels, total)
	}
	for ctx.Err() == nil {
		room := (plan.budget - (total.Load()*plan.fanout - m.delivered.Load())) / plan.fanout
		room = min(room, plan.window-(p.sent.Load()-p.acked.Load()))
		if room <= 0 {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		k := min(room, int64(plan.batch))
		total.Add(k)
		if err := p.publish(channels, int(k)); err != nil {
			return err
		}
	}
	return nil
}

// paced publishes rate events per second, on a ticker of at least 1 ms.
func (p *publisher) paced(ctx context.Context, rate float64, batch int, channels []string, total *atomic.Int64) error {
	interval := max(time.Duration(float64(time.Second)/rate), time.Millisecond)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	var sent int64
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		due := int64(time.Since(start).Seconds()*rate) - sent
		for due > 0 {
			k := min(due, int64(batch))
			total.Add(k)
			if err := p.publish(channels, int(k)); err != nil {
				return err
			}
			due -= k
			sent += k
		}
	}
}

func (p *publisher) close() {
	p.closing.Store(true)
	p.c.shutdown()
}
