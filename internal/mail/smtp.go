// Package mail delivers user-pool codes by SMTP.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/userpool"
)

// SMTP sends codes through an SMTP relay. It implements userpool.Sender.
type SMTP struct {
	addr     string
	host     string
	implicit bool // smtps: TLS from the first byte
	auth     smtp.Auth
	from     string
	log      *slog.Logger
	timeout  time.Duration
}

// NewSMTP parses smtp://[user:pass@]host[:port]?from=addr (STARTTLS is
// required when credentials are given) or smtps://… (implicit TLS).
func NewSMTP(raw string, log *slog.Logger) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &SMTP{host: u.Hostname(), log: log, timeout: 30 * time.Second}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "587"
		}
	case "smtps":
		s.implicit = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, fmt.Errorf("smtp url: scheme must be smtp or smtps, got %q", u.Scheme)
	}
	if s.host == "" {
		return nil, errors.New("smtp url: host is required")
	}
	s.addr = net.JoinHostPort(s.host, port)
	from, err := mail.ParseAddress(u.Query().Get("from"))
	if err != nil {
		return nil, fmt.Errorf("smtp url: from=<address> is required: %w", err)
	}
	s.from = from.Address
	if u.User != nil {
		pw, _ := u.User.Password()
		s.auth = smtp.PlainAuth("", u.User.Username(), pw, s.host)
	}
	return s, nil
}

// Send delivers one code. It returns only after the relay accepted it.
func (s *SMTP) Send(ctx context.Context, d userpool.Delivery) error {
	to, err := mail.ParseAddress(d.Destination)
	if err != nil {
		return fmt.Errorf("smtp: recipient: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("smtp: dial %s: %w", s.addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// A relay that stops answering must not outlive the caller: closing
	// the connection ends a read or write in progress.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: hello: %w", err)
	}
	defer c.Close()
	if err := s.deliver(c, to.Address, message(s.from, to.Address, d)); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	s.log.InfoContext(ctx, "code mailed", "kind", d.Kind, "pool", d.PoolID)
	return c.Quit()
}

func (s *SMTP) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	if s.implicit {
		td := tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}}
		return td.DialContext(ctx, "tcp", s.addr)
	}
	return d.DialContext(ctx, "tcp", s.addr)
}

func (s *SMTP) deliver(c *smtp.Client, to string, msg []byte) error {
	if !s.implicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(&tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		}
	}
	if s.auth != nil {
		// net/smtp's PlainAuth refuses to send credentials without TLS
		// (except to localhost), which is the behaviour we want.
		if err := c.Auth(s.auth); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return w.Close()
}

var subjects = map[string]string{
	userpool.KindSignUp:          "Your verification code",
	userpool.KindForgotPassword:  "Your password reset code",
	userpool.KindVerifyAttribute: "Verify your new email address",
	userpool.KindAdminCreateUser: "Your temporary password",
	userpool.KindSignInCode:      "Your sign-in code",
}

// message renders a plain-text email. Header values come from parsed
// addresses and fixed strings only, so no header injection is possible.
func message(from, to string, d userpool.Delivery) []byte {
	subject := subjects[d.Kind]
	if subject == "" {
		subject = "Your code"
	}
	body := fmt.Sprintf("Your code is %s\r\n", d.Code)
	if d.Kind == userpool.KindAdminCreateUser {
		body = fmt.Sprintf("An account was created for you. Your temporary password is %s\r\nYou will choose a new password when you first sign in.\r\n", d.Code)
	}
	// The CustomMessage trigger's text, checked by userpool: a subject
	// of one line, valid UTF-8.
	if d.Subject != "" {
		subject = mime.QEncoding.Encode("utf-8", d.Subject)
	}
	if d.Body != "" {
		body = d.Body
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s",
		from, to, subject, time.Now().UTC().Format(time.RFC1123Z), body)
	return []byte(b.String())
}
