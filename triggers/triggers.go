// Package triggers calls user-pool trigger webhooks over HTTP: the
// userpool.Invoker the server wires in. Requests are signed (Sign, Verify),
// time-limited, never follow redirects, read a bounded answer, and reach
// only the addresses the operator allows, checked when a URL is configured
// and again on every connection (so a name that later resolves elsewhere
// is still refused).
package triggers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/cognate-auth/cognate/userpool"
)

// Defaults.
const (
	// DefaultTimeout is Cognito's limit on a trigger: 5 seconds.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxResponse bounds a webhook's answer: an event with room for
	// generous claim sets and messages.
	DefaultMaxResponse = 256 << 10
)

// Options configure a Client.
type Options struct {
	// Timeout bounds one call, connection included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxResponse bounds an answer's body; zero means DefaultMaxResponse.
	MaxResponse int64
	// AllowPrivate lets webhooks live at private, link-local and (in
	// production) loopback addresses.
	AllowPrivate bool
	// Production refuses http:// URLs, even to loopback.
	Production bool
	// Now is the clock of the timestamp header; nil means time.Now.
	Now func() time.Time
}

// Client is a userpool.Invoker over HTTP. One Client, and its pool of
// connections, serves every pool and trigger.
type Client struct {
	http        *http.Client
	timeout     time.Duration
	maxResponse int64
	opts        Options
	now         func() time.Time
}

var _ userpool.Invoker = (*Client)(nil)

// New returns a Client.
func New(opts Options) *Client {
	c := &Client{timeout: opts.Timeout, maxResponse: opts.MaxResponse, opts: opts, now: opts.Now}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxResponse <= 0 {
		c.maxResponse = DefaultMaxResponse
	}
	if c.now == nil {
		c.now = time.Now
	}
	dialer := &net.Dialer{Timeout: c.timeout, Control: c.control}
	tr := &http.Transport{
		// No proxy: the address dialled is the webhook's own, so the
		// control hook judges the right one.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   c.timeout,
		ResponseHeaderTimeout: c.timeout,
	}
	c.http = &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c
}

// Close drops idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// failure is a call that got no usable answer; Kind is what a client may
// be told.
type failure struct {
	kind string
	err  error
}

func (f *failure) Error() string {
	if f.err != nil {
		return f.kind + ": " + f.err.Error()
	}
	return f.kind
}
func (f *failure) Unwrap() error { return f.err }

// Kind names the failure for the client's error message.
func (f *failure) Kind() string { return f.kind }

// errAddress is a connection refused by the address policy.
var errAddress = fmt.Errorf("%w: address not allowed", userpool.ErrHookUnavailable)

// CheckURL applies the URL policy: https, or http to loopback outside
// production; a literal address must be allowed by the address policy.
func (c *Client) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("not an absolute URL without credentials or fragment")
	}
	host := u.Hostname()
	loop := host == "localhost" || isLoopback(host)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loop && !c.opts.Production:
	case u.Scheme == "http":
		return errors.New("http is allowed only to loopback outside production; use https")
	default:
		return errors.New("the scheme must be https")
	}
	if ip, err := netip.ParseAddr(host); err == nil && !c.allowed(ip) {
		return errors.New("the address is private; the server does not allow webhooks at private addresses")
	}
	return nil
}

func isLoopback(host string) bool {
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// allowed is the address policy.
func (c *Client) allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if c.opts.AllowPrivate {
		return true
	}
	if ip.IsLoopback() {
		return !c.opts.Production
	}
	return !(ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || sharedAddressSpace.Contains(ip))
}

// sharedAddressSpace is carrier-grade NAT space (RFC 6598), private in
// all but name.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// control judges each address actually dialled.
func (c *Client) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !c.allowed(ap.Addr()) {
		return errAddress
	}
	return nil
}

// Invoke posts a signed event and returns the answer's body.
func (c *Client) Invoke(ctx context.Context, call userpool.HookCall) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, call.URL, bytes.NewReader(call.Event))
	if err != nil {
		return nil, &failure{kind: "invalid webhook URL", err: err}
	}
	ts := c.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cognate-triggers")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(call.Key, ts, call.Event))
	req.Header.Set(HeaderTrigger, call.Trigger)
	resp, err := c.http.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
			return nil, &failure{kind: "timeout", err: context.DeadlineExceeded}
		case errors.Is(err, errAddress):
			return nil, &failure{kind: "webhook address not allowed", err: err}
		}
		return nil, &failure{kind: "webhook unreachable", err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxResponse+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, &failure{kind: "timeout", err: context.DeadlineExceeded}
	case err != nil:
		return nil, &failure{kind: "webhook answer cut short", err: err}
	case int64(len(body)) > c.maxResponse:
		return nil, &failure{kind: "webhook answer too large", err: fmt.Errorf("over %d bytes", c.maxResponse)}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, &failure{kind: "webhook redirected", err: fmt.Errorf("status %d", resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		if msg, ok := refusal(body); ok {
			return nil, &userpool.HookError{Message: msg}
		}
		return nil, &failure{kind: "webhook failed", err: fmt.Errorf("status %d", resp.StatusCode)}
	}
	return body, nil
}

// refusal reads a webhook's error answer: {"errorMessage": "..."}, the
// shape of a Lambda function's error.
func refusal(body []byte) (string, bool) {
	var e struct {
		ErrorMessage *string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &e) != nil || e.ErrorMessage == nil {
		return "", false
	}
	msg := *e.ErrorMessage
	if len(msg) > 1024 {
		msg = msg[:1024]
	}
	return msg, true
}
