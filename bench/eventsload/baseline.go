package main

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// The baselines Cognate is compared against speak just enough of the
// AppSync Events protocol for this driver: API key in the header-
// subprotocol, connection_init/ack, subscribe/subscribe_success to exact
// channels, publish/publish_success, one data message per event and
// subscriber. No namespaces, rules, limits, validation or wildcards. The
// plain one is a bare coder/websocket broadcast server in the shape of
// coder/websocket's own chat example: a reader per connection, a writer
// goroutine draining a bounded queue, slow consumers closed. The raw one
// is in baseline_raw.go.

// baselineQueue bounds a connection's queue: room for scenario a's 64
// events in flight and the replies, no more (an idle connection's
// channel buffer is part of its memory).
const baselineQueue = 128

// sink is the outgoing side of one baseline connection.
type sink interface {
	// reply sends an answer to the connection's own request, waiting for
	// room: backpressure on a client that pipelines requests, which is not
	// a slow consumer.
	reply(b []byte)
	// data sends one data message; a consumer that does not keep up is
	// closed.
	data(id, event []byte)
	close(code websocket.StatusCode, reason string)
}

// bconn is one baseline connection: replies and data messages go through
// a bounded queue to a writer goroutine.
type bconn struct {
	out  chan []byte
	done chan struct{}
	once sync.Once
	shut func(code websocket.StatusCode, reason string) // closes the transport
}

func newBconn(shut func(websocket.StatusCode, string)) *bconn {
	return &bconn{out: make(chan []byte, baselineQueue), done: make(chan struct{}), shut: shut}
}

// enqueue queues b, closing the connection when its queue is full.
func (c *bconn) enqueue(b []byte) {
	select {
	case c.out <- b:
	default:
		c.close(websocket.StatusPolicyViolation, "slow consumer")
	}
}

func (c *bconn) data(id, event []byte) {
	b := make([]byte, 0, len(id)+len(event)+32)
	b = append(b, `{"type":"data","id":`...)
	b = append(b, id...)
	b = append(b, `,"event":`...)
	b = append(b, event...)
	c.enqueue(append(b, '}'))
}

func (c *bconn) reply(b []byte) {
	select {
	case c.out <- b:
	case <-c.done:
	}
}

func (c *bconn) close(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		close(c.done)
		go c.shut(code, reason)
	})
}

type bsub struct {
	c  sink
	ch string
	id []byte // JSON string
}

type bhub struct {
	key   string
	mu    sync.RWMutex
	chans map[string][]*bsub
	ids   atomic.Uint64
}

// serveBaseline serves the baseline on addr until ctx is done: over
// coder/websocket, or with raw, over the hand-written framing of
// baseline_raw.go.
func serveBaseline(ctx context.Context, addr, key string, raw bool, pprofAddr string) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-baseline %q: loopback IP and port only", addr)
	}
	if key == "" {
		return errors.New("-baseline needs -key")
	}
	h := &bhub{key: key, chans: map[string][]*bsub{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	if raw {
		mux.HandleFunc("GET /event/realtime", h.serveRaw)
	} else {
		mux.HandleFunc("GET /event/realtime", h.serveWS)
	}
	if pprofAddr != "" {
		go servePprof(ctx, pprofAddr)
	}
	srv := &http.Server{Addr: addr, Handler: mux}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// headerKey is the x-api-key of the header- subprotocol, if any.
func headerKey(r *http.Request) string {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			enc, ok := strings.CutPrefix(strings.TrimSpace(p), "header-")
			if !ok {
				continue
			}
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
			var hdr map[string]string
			if err == nil && json.Unmarshal(raw, &hdr) == nil {
				return hdr["x-api-key"]
			}
		}
	}
	return ""
}

func (h *bhub) authorized(key string) bool {
	return subtle.ConstantTimeCompare([]byte(key), []byte(h.key)) == 1
}

func (h *bhub) serveWS(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(headerKey(r)) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{subprotocol}})
	if err != nil {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	c := newBconn(func(code websocket.StatusCode, reason string) { ws.Close(code, reason) })
	go func() {
		for {
			select {
			case <-c.done:
				return
			case b := <-c.out:
				if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
					c.close(websocket.StatusInternalError, "write failed")
					return
				}
			}
		}
	}()
	h.serveConn(c, func() ([]byte, error) {
		_, data, err := ws.Read(ctx)
		return data, err
	})
}

// serveConn handles the messages read returns until it fails.
func (h *bhub) serveConn(c sink, read func() ([]byte, error)) {
	var subs []*bsub
	defer func() {
		h.unsubscribe(subs)
		c.close(websocket.StatusNormalClosure, "")
	}()
	for {
		data, err := read()
		if err != nil {
			return
		}
		if s := h.handle(c, data); s != nil {
			subs = append(subs, s)
		}
	}
}

type bmsg struct {
	Type          string            `json:"type"`
	ID            string            `json:"id"`
	Channel       string            `json:"channel"`
	Events        []string          `json:"events"`
	Authorization map[string]string `json:"authorization"`
}

// handle answers one client message; it returns the subscription a
// subscribe created.
func (h *bhub) handle(c sink, data []byte) *bsub {
	var m bmsg
	if err := json.Unmarshal(data, &m); err != nil {
		c.reply([]byte(`{"type":"error","errors":[{"errorType":"BadRequestException","message":"bad JSON"}]}`))
		return nil
	}
	id, _ := json.Marshal(m.ID)
	switch m.Type {
	case "connection_init":
		c.reply([]byte(`{"type":"connection_ack","connectionTimeoutMs":300000}`))
	case "subscribe", "publish":
		if !h.authorized(m.Authorization["x-api-key"]) {
			c.reply(fmt.Appendf(nil, `{"type":"%s_error","id":%s,"errors":[{"errorType":"UnauthorizedException","message":"unauthorized"}]}`, m.Type, id))
			return nil
		}
		if m.Type == "publish" {
			h.publish(c, &m, id)
			return nil
		}
		s := &bsub{c: c, ch: m.Channel, id: id}
		h.mu.Lock()
		h.chans[m.Channel] = append(h.chans[m.Channel], s)
		h.mu.Unlock()
		c.reply(fmt.Appendf(nil, `{"type":"subscribe_success","id":%s}`, id))
		return s
	default:
		c.reply([]byte(`{"type":"error","errors":[{"errorType":"UnsupportedOperation","message":"unknown type"}]}`))
	}
	return nil
}

// publish sends one data message per event to each subscriber of the
// channel, then publish_success to the publisher.
func (h *bhub) publish(c sink, m *bmsg, id []byte) {
	h.mu.RLock()
	subs := h.chans[m.Channel]
	h.mu.RUnlock()
	ack := fmt.Appendf(nil, `{"type":"publish_success","id":%s,"successful":[`, id)
	for i, ev := range m.Events {
		q, _ := json.Marshal(ev)
		for _, s := range subs {
			s.c.data(s.id, q)
		}
		if i > 0 {
			ack = append(ack, ',')
		}
		ack = fmt.Appendf(ack, `{"identifier":"%016x","index":%s}`, h.ids.Add(1), strconv.Itoa(i))
	}
	c.reply(append(ack, `],"failed":[]}`...))
}

func (h *bhub) unsubscribe(subs []*bsub) {
	if len(subs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range subs {
		// A fresh slice: publishers may still hold the old one.
		list := h.chans[s.ch]
		for i, x := range list {
			if x == s {
				h.chans[s.ch] = append(list[:i:i], list[i+1:]...)
				break
			}
		}
	}
}
