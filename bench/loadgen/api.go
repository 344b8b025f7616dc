package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	targetPrefix = "AWSCognitoIdentityProviderService."
	contentType  = "application/x-amz-json-1.1"
)

// api speaks Cognito's JSON 1.1 protocol to one server over keep-alive
// connections. Admin operations are SigV4-signed when creds is set
// (Cognate checks the signature; cognito-local ignores it).
type api struct {
	base  string
	hc    *http.Client
	creds *aws.Credentials
	sign  *v4.Signer
}

// apiError is a non-200 answer.
type apiError struct {
	Op     string
	Status int
	Type   string
	Msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s: %s", e.Op, e.Status, e.Type, e.Msg)
}

// newAPI returns a client for base, which must be a loopback http URL.
// conns bounds the connections kept open (one per load worker).
func newAPI(base string, conns int, creds *aws.Credentials) (*api, error) {
	if err := checkLoopback(base); err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               nil, // never through a proxy: loopback only
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 8,
		MaxIdleConnsPerHost: conns + 8,
		MaxConnsPerHost:     conns + 8,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &api{
		base:  base,
		hc:    &http.Client{Transport: tr, Timeout: 30 * time.Second},
		creds: creds,
		sign:  v4.NewSigner(),
	}, nil
}

// checkLoopback refuses any target that is not on this machine's
// loopback interface: load goes nowhere else.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("target %q: want http://127.0.0.1:PORT", base)
	}
	host := u.Hostname()
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		addrs, err := net.LookupHost(host)
		if err != nil || len(addrs) == 0 {
			return fmt.Errorf("target %q: cannot resolve %s", base, host)
		}
		ips = ips[:0]
		for _, a := range addrs {
			ips = append(ips, net.ParseIP(a))
		}
	}
	for _, ip := range ips {
		if ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("target %q: %s is not a loopback address; loadgen only drives servers on this machine", base, host)
		}
	}
	return nil
}

// call posts one operation; buf receives the response body (reused by
// load workers to spare allocations) and is returned on success.
func (a *api) call(ctx context.Context, op string, body []byte, signed bool, buf *bytes.Buffer) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	if signed && a.creds != nil {
		sum := sha256.Sum256(body)
		if err := a.sign.SignHTTP(ctx, *a.creds, req, hex.EncodeToString(sum[:]), "cognito-idp", "us-east-1", time.Now()); err != nil {
			return nil, fmt.Errorf("%s: sign: %w", op, err)
		}
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, fmt.Errorf("%s: read response: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(buf.Bytes(), &e)
		if e.Type == "" {
			e.Type = resp.Header.Get("x-amzn-ErrorType")
		}
		if e.Message == "" && e.Type == "" {
			e.Message = truncate(buf.String(), 200)
		}
		return nil, &apiError{Op: op, Status: resp.StatusCode, Type: e.Type, Msg: e.Message}
	}
	return buf.Bytes(), nil
}

// do is call for setup: marshal in, unmarshal the answer into out.
func (a *api) do(ctx context.Context, op string, in any, out any, signed bool) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	raw, err := a.call(ctx, op, body, signed, nil)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: decode response: %w", op, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
