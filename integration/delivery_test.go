package integration_test

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	smtpd "github.com/emersion/go-smtp"

	"github.com/cognate-auth/cognate/server"
)

// relay is a real SMTP server (emersion/go-smtp) on loopback that keeps
// what it receives.
type relay struct {
	addr string
	mu   sync.Mutex
	mail []string
	got  chan struct{}
}

func startRelay(t *testing.T) *relay {
	t.Helper()
	r := &relay{got: make(chan struct{}, 100)}
	srv := smtpd.NewServer(smtpd.BackendFunc(func(*smtpd.Conn) (smtpd.Session, error) { return &relaySession{r: r}, nil }))
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return r
}

type relaySession struct{ r *relay }

func (s *relaySession) Reset()                                {}
func (s *relaySession) Logout() error                         { return nil }
func (s *relaySession) Mail(string, *smtpd.MailOptions) error { return nil }
func (s *relaySession) Rcpt(string, *smtpd.RcptOptions) error { return nil }
func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.mail = append(s.r.mail, string(b))
	s.r.mu.Unlock()
	s.r.got <- struct{}{}
	return nil
}

// codeMailed waits for the next mail and returns the code in it.
func (r *relay) codeMailed(t *testing.T) string {
	t.Helper()
	select {
	case <-r.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no mail reached the relay within 10 s")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := regexp.MustCompile(`Your code is (\d{6})`).FindStringSubmatch(r.mail[len(r.mail)-1])
	if m == nil {
		t.Fatalf("no code in %q", r.mail[len(r.mail)-1])
	}
	return m[1]
}

// hungRelay accepts connections and never answers: a relay that is up but
// stuck.
func hungRelay(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// serving starts a Cognate server mailing through smtpAddr and serves it
// on a real listener, background work (the delivery queue) included.
func serving(t *testing.T, smtpAddr string) *env {
	t.Helper()
	e := newEnvWith(t, server.Config{SMTPURL: "smtp://" + smtpAddr + "?from=no-reply@example.com"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.ServeListeners(ctx, server.Listeners{HTTP: ln}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("serve: %v", err)
		}
	})
	e.url = "http://" + ln.Addr().String()
	e.api = e.sdk(e.creds.AccessKeyID, e.creds.SecretAccessKey)
	return e
}

// TestCodesReachTheRelay signs up and resets a password with codes that
// travel through a real SMTP relay, from the queue the request wrote.
func TestCodesReachTheRelay(t *testing.T) {
	t.Parallel()
	r := startRelay(t)
	e := serving(t, r.addr)
	const email = "mailed@example.com"
	must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String(email), Password: aws.String(password)}))(t)
	must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{
		ClientId: aws.String(e.pub), Username: aws.String(email), ConfirmationCode: aws.String(r.codeMailed(t)),
	}))(t)
	must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String(email)}))(t)
	must(e.api.ConfirmForgotPassword(e.ctx, &cip.ConfirmForgotPasswordInput{
		ClientId: aws.String(e.pub), Username: aws.String(email), ConfirmationCode: aws.String(r.codeMailed(t)), Password: aws.String(password2),
	}))(t)
	e.signIn(e.pub, email, password2)
	// Sent codes are not kept in clear. The relay holds a message before
	// the worker records it as sent, so wait for that record first.
	var box []outboxEntry
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		box = e.outbox()
		if allSent(box) || time.Now().After(deadline) {
			break
		}
	}
	if len(box) != 2 || !allSent(box) {
		t.Fatalf("outbox after both codes were mailed: %+v", box)
	}
	for _, m := range box {
		if m.Code != "" {
			t.Errorf("outbox keeps the code of a sent message: %+v", m)
		}
	}
}

func allSent(box []outboxEntry) bool {
	for _, m := range box {
		if m.Status != "sent" {
			return false
		}
	}
	return true
}

// TestStuckRelayDelaysNobody: with a relay that accepts connections and
// never answers, requests that send codes still answer at once — for a
// real user as for an unknown name — and the message waits in the queue.
func TestStuckRelayDelaysNobody(t *testing.T) {
	t.Parallel()
	e := serving(t, hungRelay(t))
	must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String("stuck@example.com"), Password: aws.String(password)}))(t)
	for _, name := range []string{"stuck@example.com", "stuck-nobody@example.com"} {
		start := time.Now()
		must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String(name)}))(t)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("ForgotPassword for %s took %v with a stuck relay", name, d)
		}
	}
	queued := 0
	for _, m := range e.outbox() {
		if m.Status == "queued" {
			queued++
		}
	}
	if queued != 2 { // the sign-up code and the reset code
		t.Errorf("%d messages queued, want 2", queued)
	}
}
