package events

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// closeGrace bounds how long a closing connection may take to write its
// last frames before its transport is closed regardless; slowGrace is
// that bound for a slow consumer, whose last frame rarely gets through.
const (
	closeGrace = 5 * time.Second
	slowGrace  = time.Second
)

// maxIDLen bounds client-chosen subscription and publish ids (Amplify
// sends 36-character UUIDs).
const maxIDLen = 256

// Transport writes one connection's frames; eventsapi implements it over
// a WebSocket.
type Transport interface {
	// WriteFrame writes one complete text message, or buffers it until
	// Flush. The Hub calls WriteFrame and Flush from one goroutine at a
	// time, in queue order; frame is valid only during the call. An error
	// ends the connection.
	WriteFrame(frame []byte) error
	// Flush writes what WriteFrame buffered. The Hub calls it after each
	// batch of frames it found queued, so a connection that is behind
	// gets many frames per write.
	Flush() error
	// Close ends the connection. The Hub calls it exactly once, never on
	// a publisher's goroutine: after the last frame was written, or when
	// it gives up waiting for that. reason is nil when the client went
	// away, else an *Error wrapping ErrSlowConsumer, ErrTokenExpired,
	// ErrConnectionTimeout or ErrClosed (Hub shutdown). It may be called
	// while WriteFrame or Flush is blocked, which must then return.
	Close(reason error)
}

// Conn is one client connection of a Hub. Its methods handle the client
// messages of the protocol and queue the replies; they may be called from
// any goroutine. While half the connection's send queue is taken they
// first wait for it to drain: a client that sends requests faster than
// it reads the replies is slowed down, and the transport's reader with
// it, instead of being closed as a slow consumer.
type Conn struct {
	hub      *Hub
	t        Transport
	identity Identity
	done     chan struct{}
	// addr and key (when keyed) are what the connection counts against
	// in Hub.limits.
	addr  string
	key   keySum
	keyed bool
	// writer is c.writeLoop, bound once: "go c.writer()" then costs no
	// allocation per burst of frames.
	writer func()

	mu         sync.Mutex
	room       sync.Cond   // signalled when the queue drains or closes; L is &mu
	queue      []outFrame  // waiting to be written
	spare      []outFrame  // the writer's last batch, reused
	queued     int         // bytes in queue
	writing    bool        // a writeLoop goroutine runs
	writeSince time.Time   // when the running batch started
	active     bool        // connection_init or an operation seen
	closing    bool        // no more frames accepted
	finished   bool        // Transport.Close called
	abandon    atomic.Bool // the writer drops its batch (slow consumer)
	reason     error
	subs       map[string]*subscription
	expires    time.Time // earliest credential expiry of the connection
	expiryGen  int
	kaTimer    *time.Timer
	initTimer  *time.Timer
	expTimer   *time.Timer
	forceTimer *time.Timer
}

// subscription is one subscribe of a Conn.
type subscription struct {
	conn    *Conn
	id      string
	pattern Channel
	head    []byte // the data frame up to the event
	expires time.Time
	removed bool // guarded by conn.mu
}

// outFrame is a queued frame: head+body for data, body alone otherwise.
type outFrame struct {
	head, body []byte
}

// Connect authorizes a connection from client address addr with the
// credentials of its handshake (CONNECT modes) and registers it. addr
// counts towards Config.MaxConnectionsPerAddress; "" is not counted. The
// Conn writes through t. Errors are *Error values: UnauthorizedException
// (401), LimitExceededException (429, wrapping ErrMaxConnections,
// ErrMaxConnectionsPerAddress or ErrMaxConnectionsPerAPIKey) when a cap
// is reached, ServiceUnavailableException after Shutdown; the transport
// should send ConnectionErrorFrame(err) and close.
func (h *Hub) Connect(ctx context.Context, addr string, auth Headers, t Transport) (*Conn, error) {
	if h.cfg.MaxConnectionsPerAddress < 0 {
		addr = ""
	}
	if err := h.admit(addr); err != nil {
		return nil, err
	}
	id, err := h.auth.authenticate(ctx, auth, h.cfg.ConnectionAuthModes)
	if err != nil {
		h.release(addr)
		return nil, err
	}
	c := &Conn{hub: h, t: t, identity: id, done: make(chan struct{}), addr: addr}
	if id.AuthType == AuthAPIKey && h.cfg.MaxConnectionsPerAPIKey > 0 {
		c.key, c.keyed = apiKeySum(auth), true
	}
	c.room.L = &c.mu
	c.writer = c.writeLoop
	if err := h.addConn(c); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.kaTimer = time.AfterFunc(time.Duration(h.cfg.KeepAlive), c.keepAlive)
	c.initTimer = time.AfterFunc(time.Duration(h.cfg.ConnectionTimeout), c.initTimeout)
	c.scheduleExpiryLocked()
	c.mu.Unlock()
	return c, nil
}

// Identity is the identity the connection was opened with.
func (c *Conn) Identity() Identity { return c.identity }

// Done is closed once the connection is closed and unregistered.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Init handles connection_init: connection_ack, then a first ka.
func (c *Conn) Init() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.awaitRoomLocked() {
		return
	}
	c.activateLocked()
	c.replyLocked(c.hub.ack)
	c.replyLocked(kaFrame)
}

// Subscribe handles subscribe: it authorizes the pattern with auth
// (SUBSCRIBE modes and channel rules), registers the subscription and
// queues subscribe_success — in that order, under the connection's lock,
// so an event published once the client can see the success is delivered
// and arrives after it. Any failure queues subscribe_error and is returned.
func (c *Conn) Subscribe(ctx context.Context, id, channel string, auth Headers) error {
	if !c.awaitRoom() {
		return AsError(ErrClosed)
	}
	s, err := c.authorizeSubscribe(ctx, id, channel, auth)
	if err == nil {
		err = c.addSubscription(s)
	}
	if err != nil {
		c.reply(errorFrame("subscribe_error", id, err))
	}
	return err
}

func (c *Conn) authorizeSubscribe(ctx context.Context, id, channel string, auth Headers) (*subscription, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	pat, err := ParsePattern(channel)
	if err != nil {
		return nil, channelError(err)
	}
	ns, err := c.hub.namespace(pat)
	if err != nil {
		return nil, err
	}
	ident, err := c.hub.auth.authenticate(ctx, auth, ns.subscribeModes)
	if err != nil {
		return nil, err
	}
	if !ns.allows(OpSubscribe, pat, &ident) {
		return nil, Unauthorized(403, "Not allowed to subscribe to %s.", pat)
	}
	return &subscription{conn: c, id: id, pattern: pat, head: dataHead(id), expires: ident.Expires}, nil
}

func (c *Conn) addSubscription(s *subscription) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch limit := c.hub.cfg.MaxSubscriptionsPerConnection; {
	case c.closing:
		return AsError(ErrClosed)
	case c.subs[s.id] != nil:
		return BadRequest("Subscription id %q is already in use on this connection.", s.id)
	case len(c.subs) >= limit:
		return limitExceeded("A connection has at most %d subscriptions.", limit)
	}
	if c.subs == nil {
		c.subs = make(map[string]*subscription)
	}
	c.subs[s.id] = s
	c.hub.reg.add(s)
	c.hub.stats.subscriptions.Add(1)
	c.activateLocked()
	c.replyLocked(idFrame("subscribe_success", s.id))
	c.scheduleExpiryLocked()
	return nil
}

// Unsubscribe handles unsubscribe: unsubscribe_success, or
// unsubscribe_error with UnknownOperationError for an id that is not
// subscribed.
func (c *Conn) Unsubscribe(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.awaitRoomLocked() {
		return AsError(ErrClosed)
	}
	s := c.subs[id]
	if s == nil {
		err := &Error{Type: TypeUnknownOperation, Code: 400, Message: fmt.Sprintf("No subscription with id %q.", trunc(id)), Err: ErrBadRequest}
		c.replyLocked(errorFrame("unsubscribe_error", id, err))
		return err
	}
	delete(c.subs, id)
	s.removed = true
	c.hub.reg.remove(s)
	c.hub.stats.subscriptions.Add(-1)
	c.replyLocked(idFrame("unsubscribe_success", id))
	c.scheduleExpiryLocked()
	return nil
}

// Publish handles publish: Hub.Publish with the message's own auth, then
// publish_success (successful and failed events) or publish_error.
func (c *Conn) Publish(ctx context.Context, id, channel string, events []string, auth Headers) error {
	if !c.awaitRoom() {
		return AsError(ErrClosed)
	}
	err := checkID(id)
	var res PublishResult
	if err == nil {
		res, err = c.hub.Publish(ctx, auth, channel, events)
	}
	if err != nil {
		c.reply(errorFrame("publish_error", id, err))
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.activateLocked()
	c.replyLocked(publishSuccessFrame(id, res))
	return nil
}

// SendError queues an error reply for a client message the transport
// could not decode: reply is "error" (unreadable JSON, an unknown type, a
// binary frame) or the operation's own error type ("subscribe_error",
// "publish_error", "unsubscribe_error") when the message said what it
// was; id is the message's id, "" when it had none.
func (c *Conn) SendError(reply, id string, err error) {
	if c.awaitRoom() {
		c.reply(errorFrame(reply, id, err))
	}
}

// Close is for the transport: the client went away (or reading failed).
// It drops what is queued, unregisters the connection and calls
// Transport.Close(nil) unless the Hub already closed it.
func (c *Conn) Close() {
	c.mu.Lock()
	if !c.closing {
		c.closing = true
		clear(c.queue)
		c.queue, c.queued = c.queue[:0], 0
		c.room.Broadcast()
	}
	c.mu.Unlock()
	c.finish()
}

func checkID(id string) error {
	switch {
	case id == "":
		return BadRequest("The message has no id.")
	case len(id) > maxIDLen:
		return BadRequest("The id is longer than %d bytes.", maxIDLen)
	}
	return nil
}

// awaitRoom waits until less than half the send queue is taken, and
// reports whether the connection is still open.
func (c *Conn) awaitRoom() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.awaitRoomLocked()
}

func (c *Conn) awaitRoomLocked() bool {
	cfg := &c.hub.cfg
	// An empty queue always has room, however small the limits.
	for !c.closing && len(c.queue) > 0 && (len(c.queue) >= cfg.SendQueueLength/2 || c.queued >= cfg.SendQueueBytes/2) {
		c.room.Wait()
	}
	return !c.closing
}

// reply queues the answer to one of the client's own messages.
func (c *Conn) reply(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replyLocked(frame)
}

// replyLocked queues frame without the slow-consumer check: replies are
// bounded by awaitRoom, which holds the client's next message back.
func (c *Conn) replyLocked(frame []byte) {
	if !c.closing {
		c.pushLocked(outFrame{body: frame})
	}
}

// deliver queues the data frames of one message for s.
func (c *Conn) deliver(s *subscription, tails [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.removed {
		return
	}
	for _, t := range tails {
		if !c.enqueueLocked(outFrame{head: s.head, body: t}) {
			return
		}
	}
}

// enqueueLocked queues f, starting the writer if none runs. A full queue
// closes the connection as a slow consumer and returns false.
func (c *Conn) enqueueLocked(f outFrame) bool {
	if c.closing {
		return false
	}
	size := len(f.head) + len(f.body)
	cfg := &c.hub.cfg
	if len(c.queue) >= cfg.SendQueueLength || (c.queued > 0 && c.queued+size > cfg.SendQueueBytes) {
		c.slowLocked()
		return false
	}
	c.pushLocked(f)
	return true
}

func (c *Conn) pushLocked(f outFrame) {
	c.queue = append(c.queue, f)
	c.queued += len(f.head) + len(f.body)
	c.startWriterLocked()
}

func (c *Conn) startWriterLocked() {
	if !c.writing {
		c.writing = true
		c.hub.writing.Add(1)
		go c.writer()
	}
}

func (c *Conn) slowLocked() {
	c.hub.stats.slowConsumers.Add(1)
	c.hub.log.Info("events: closing a slow consumer", "queued", len(c.queue), "bytes", c.queued)
	reason := &Error{Type: TypeSlowConsumer, Message: "The connection did not keep up with its events.", Err: ErrSlowConsumer}
	c.closeLocked(ConnectionErrorFrame(reason), reason, true)
	c.forceTimer.Reset(slowGrace)
}

// closeWith closes the connection from the Hub's side: frame (if any) is
// the last one written, after the queue unless drop discards the queue.
func (c *Conn) closeWith(frame []byte, reason error, drop bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(frame, reason, drop)
}

func (c *Conn) closeLocked(frame []byte, reason error, drop bool) {
	if c.closing {
		return
	}
	c.closing = true
	c.reason = reason
	c.room.Broadcast()
	if drop {
		c.abandon.Store(true)
		var data uint64
		for _, f := range c.queue {
			if f.head != nil {
				data++
			}
		}
		c.hub.stats.dropped.Add(data)
		clear(c.queue)
		c.queue, c.queued = c.queue[:0], 0
	}
	if frame != nil {
		c.queue = append(c.queue, outFrame{body: frame})
	}
	c.stopTimersLocked()
	c.forceTimer = time.AfterFunc(closeGrace, c.finish)
	c.startWriterLocked()
}

func (c *Conn) stopTimersLocked() {
	for _, t := range []*time.Timer{c.kaTimer, c.initTimer, c.expTimer} {
		if t != nil {
			t.Stop()
		}
	}
}

func (c *Conn) activateLocked() {
	if !c.active {
		c.active = true
		if c.initTimer != nil {
			c.initTimer.Stop()
			c.initTimer = nil // an idle connection keeps no more than it needs
		}
	}
}

func (c *Conn) keepAlive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	every := time.Duration(c.hub.cfg.KeepAlive)
	// A writer stuck on one batch for a whole interval has a client that
	// stopped reading; without new events its queue would never overflow.
	if c.writing && !c.writeSince.IsZero() && time.Since(c.writeSince) > every {
		c.slowLocked()
		return
	}
	if c.enqueueLocked(outFrame{body: kaFrame}) {
		c.kaTimer.Reset(every)
	}
}

func (c *Conn) initTimeout() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active || c.closing {
		return
	}
	reason := &Error{
		Type: TypeConnectionTimeout, Code: 408, Err: ErrConnectionTimeout,
		Message: fmt.Sprintf("No connection_init or operation within %d ms.", time.Duration(c.hub.cfg.ConnectionTimeout).Milliseconds()),
	}
	c.closeLocked(ConnectionErrorFrame(reason), reason, false)
}

// scheduleExpiryLocked arms the timer for the earliest expiry of the
// connection's credential and its subscriptions' credentials.
func (c *Conn) scheduleExpiryLocked() {
	exp := c.identity.Expires
	for _, s := range c.subs {
		if !s.expires.IsZero() && (exp.IsZero() || s.expires.Before(exp)) {
			exp = s.expires
		}
	}
	if exp.Equal(c.expires) && (exp.IsZero() || c.expTimer != nil) {
		return
	}
	c.expires = exp
	c.expiryGen++
	if c.expTimer != nil {
		c.expTimer.Stop()
		c.expTimer = nil
	}
	if exp.IsZero() {
		return
	}
	gen := c.expiryGen
	c.expTimer = time.AfterFunc(max(exp.Sub(c.hub.now()), 0), func() { c.expire(gen) })
}

func (c *Conn) expire(gen int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.expiryGen || c.closing {
		return
	}
	reason := &Error{Type: TypeUnauthorized, Code: 401, Message: "Token expired", Err: ErrTokenExpired}
	c.closeLocked(ConnectionErrorFrame(reason), reason, false)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledBuf keeps huge event buffers out of the pool.
const maxPooledBuf = 64 << 10

// keptQueueCap is the queue capacity an idle connection keeps.
const keptQueueCap = 16

// busyWriters: with more connections than this writing at once, their
// writers take turns (writeLoop).
const busyWriters = 64

// writeLoop writes the queue in batches until it is empty, then exits;
// it closes the transport when the connection is closing.
//
// When many connections have frames to write, each writer yields before
// taking a batch. runtime.Gosched puts it at the back of the global run
// queue, which is first in, first out: the writers take turns in order,
// and a connection's frames wait about one round, collecting every event
// published meanwhile, so they go out with one write(2). Batches then
// grow with the load; without the turns, how many frames a write carried
// depended on the scheduler's order (1 to 7 in the same benchmark),
// and the cost of a delivery with it, as every write(2) costs the same.
func (c *Conn) writeLoop() {
	defer c.hub.writing.Add(-1)
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf {
			bufPool.Put(bp)
		}
	}()
	for {
		if c.hub.writing.Load() > busyWriters {
			runtime.Gosched()
		}
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.writing = false
			c.writeSince = time.Time{}
			closing := c.closing
			if cap(c.queue) > keptQueueCap {
				c.queue = nil
			}
			if cap(c.spare) > keptQueueCap {
				c.spare = nil
			}
			c.mu.Unlock()
			if closing {
				c.finish()
			}
			return
		}
		batch := c.queue
		c.queue, c.spare, c.queued = c.spare[:0], nil, 0
		c.writeSince = time.Now()
		c.room.Broadcast()
		c.mu.Unlock()
		if err := c.writeBatch(batch, bp); err != nil {
			c.hub.log.Debug("events: write failed", "err", err)
			c.Close()
			return
		}
		clear(batch)
		c.mu.Lock()
		if c.spare == nil {
			c.spare = batch[:0]
		}
		c.mu.Unlock()
	}
}

func (c *Conn) writeBatch(batch []outFrame, bp *[]byte) error {
	var data uint64
	defer func() { c.hub.stats.deliveries.Add(data) }()
	for i := range batch {
		f := &batch[i]
		if f.head != nil && c.abandon.Load() {
			continue
		}
		frame := f.body
		if f.head != nil {
			*bp = append(append((*bp)[:0], f.head...), f.body...)
			frame = *bp
			data++
		}
		if err := c.t.WriteFrame(frame); err != nil {
			if f.head != nil {
				data--
			}
			return err
		}
	}
	return c.t.Flush()
}

// finish closes the transport once and unregisters the connection.
func (c *Conn) finish() {
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return
	}
	c.finished = true
	c.closing = true
	c.room.Broadcast()
	reason := c.reason
	c.stopTimersLocked()
	if c.forceTimer != nil {
		c.forceTimer.Stop()
	}
	subs := c.subs
	c.subs = nil
	for _, s := range subs {
		s.removed = true
	}
	c.mu.Unlock()
	c.t.Close(reason)
	for _, s := range subs {
		c.hub.reg.remove(s)
	}
	c.hub.stats.subscriptions.Add(-int64(len(subs)))
	c.hub.removeConn(c)
	close(c.done)
}
