package eventsapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/cognate-auth/cognate/events"
)

// connectErrorTimeout bounds writing the connection_error of a refused
// connection; opTimeout bounds authorizing one operation (a key lookup,
// a token verification).
const (
	connectErrorTimeout = 5 * time.Second
	opTimeout           = 10 * time.Second
)

// realtime upgrades to a WebSocket and authorizes the handshake, then
// hands the connection to a goroutine of its own that reads client
// messages, and returns: net/http's per-request state is freed, which
// matters for idle connections. Frames are written by the Hub through
// wsTransport.
func (h *Handler) realtime(w http.ResponseWriter, r *http.Request) {
	if !h.originAllowed(r) {
		h.m.failed("connect", "ForbiddenOrigin")
		writeError(w, events.Unauthorized(http.StatusForbidden, "Origin %q is not allowed.", r.Header.Get("Origin")), 0)
		return
	}
	auth, authErr := handshakeHeaders(r)
	hj := &hijacker{ResponseWriter: w}
	ws, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		Subprotocols: []string{Subprotocol},
		// The origin was checked above, with the same patterns.
		InsecureSkipVerify: true,
	})
	if err != nil {
		h.log.Debug("events: websocket upgrade failed", "err", err)
		return
	}
	ws.SetReadLimit(MaxMessageBytes)
	// The connection outlives the request: keep the context's values only.
	ctx := context.WithoutCancel(r.Context())
	t := &wsTransport{ws: ws, batch: hj.batch}
	var conn *events.Conn
	if authErr == nil {
		cctx, cancel := context.WithTimeout(ctx, opTimeout)
		conn, err = h.hub.Connect(cctx, h.clientAddr(r), auth, t)
		cancel()
	} else {
		err = authErr
	}
	if err != nil {
		h.refuse(ctx, ws, err)
		return
	}
	go h.serve(ctx, ws, conn)
}

// refuse sends connection_error and closes.
func (h *Handler) refuse(ctx context.Context, ws *websocket.Conn, err error) {
	e := events.AsError(err)
	h.m.failed("connect", e.Type)
	h.log.Debug("events: connection refused", "type", e.Type, "message", e.Message)
	wctx, cancel := context.WithTimeout(ctx, connectErrorTimeout)
	defer cancel()
	if werr := ws.Write(wctx, websocket.MessageText, events.ConnectionErrorFrame(e)); werr != nil {
		_ = ws.CloseNow()
		return
	}
	code := websocket.StatusPolicyViolation
	if errors.Is(err, events.ErrLimitExceeded) || errors.Is(err, events.ErrClosed) || errors.Is(err, events.ErrUnavailable) {
		code = websocket.StatusTryAgainLater
	}
	_ = ws.Close(code, e.Type)
}

// serve reads and dispatches client messages until reading fails, then
// closes conn. After a message that usually precedes a long wait
// (connection_init, subscribe, unsubscribe) it hands reading on to a new
// goroutine and returns: authorizing grew this goroutine's stack to
// 8 KB, which the runtime does not shrink while the goroutine idles in
// Read, and with 10,000 idle connections that is 80 MB.
func (h *Handler) serve(ctx context.Context, ws *websocket.Conn, conn *events.Conn) {
	for {
		typ, data, err := ws.Read(context.Background())
		if err != nil {
			conn.Close()
			return
		}
		if typ != websocket.MessageText {
			h.m.failed("message", events.TypeBadRequest)
			conn.SendError("error", "", events.BadRequest("Binary messages are not supported: send JSON text."))
			continue
		}
		m, err := decodeMessage(data)
		if err != nil {
			h.m.failed("message", events.TypeBadRequest)
			conn.SendError(replyType(m.Type), m.ID, err)
			continue
		}
		h.dispatch(ctx, conn, m)
		switch m.Type {
		case "connection_init", "subscribe", "unsubscribe":
			go h.serve(ctx, ws, conn)
			return
		}
	}
}

func (h *Handler) dispatch(ctx context.Context, conn *events.Conn, m message) {
	var err error
	if m.Type == "subscribe" || m.Type == "publish" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opTimeout)
		defer cancel()
	}
	switch m.Type {
	case "connection_init":
		conn.Init()
	case "subscribe":
		err = conn.Subscribe(ctx, m.ID, m.Channel, m.Authorization)
	case "unsubscribe":
		err = conn.Unsubscribe(m.ID)
	case "publish":
		err = conn.Publish(ctx, m.ID, m.Channel, m.Events, m.Authorization)
	default:
		err = events.Unsupported("Unknown message type %q.", trunc(m.Type))
		conn.SendError("error", m.ID, err)
		m.Type = "message"
	}
	if err != nil {
		h.m.failed(m.Type, events.AsError(err).Type)
	}
}

// replyType is the error reply for a message of type typ that could not
// be decoded.
func replyType(typ string) string {
	switch typ {
	case "subscribe", "publish", "unsubscribe":
		return typ + "_error"
	}
	return "error"
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// wsTransport is the Hub's view of a WebSocket: the Hub's frames go to
// the batchWriter, coder/websocket reads and does the close handshake.
type wsTransport struct {
	ws    *websocket.Conn
	batch *batchWriter
}

// WriteFrame adds one text message to the current batch.
func (t *wsTransport) WriteFrame(b []byte) error { return t.batch.frame(b) }

// Flush sends the batch with one write.
func (t *wsTransport) Flush() error { return t.batch.end() }

// Close closes with a code saying why; the client went away when reason
// is nil. The close handshake (which waits for the client's reply) runs
// on its own goroutine so that the Hub, and Shutdown, do not wait for
// slow or gone clients; the write deadline set first ends any write a
// client that stopped reading would block.
func (t *wsTransport) Close(reason error) {
	t.batch.close()
	if reason == nil {
		_ = t.ws.CloseNow()
		return
	}
	code, text := websocket.StatusInternalError, "internal error"
	switch {
	case errors.Is(reason, events.ErrClosed):
		code, text = websocket.StatusGoingAway, "server shutting down"
	case errors.Is(reason, events.ErrSlowConsumer):
		code, text = websocket.StatusPolicyViolation, "slow consumer"
	case errors.Is(reason, events.ErrTokenExpired):
		code, text = websocket.StatusPolicyViolation, "token expired"
	case errors.Is(reason, events.ErrConnectionTimeout):
		code, text = websocket.StatusPolicyViolation, "connection timeout"
	}
	go func() { _ = t.ws.Close(code, text) }()
}
