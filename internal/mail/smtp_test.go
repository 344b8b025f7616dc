package mail

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/userpool"
)

// relay is a minimal SMTP server speaking the real protocol to net/smtp:
// enough to see exactly what Cognate hands to a mail relay.
type relay struct {
	ln   net.Listener
	msgs chan string
	rcpt chan string
}

func startRelay(t *testing.T, rejectRcpt bool) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, msgs: make(chan string, 4), rcpt: make(chan string, 4)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.session(c, rejectRcpt)
		}
	}()
	return r
}

func (r *relay) session(c net.Conn, rejectRcpt bool) {
	defer c.Close()
	in := bufio.NewReader(c)
	say := func(s string) { c.Write([]byte(s + "\r\n")) }
	say("220 relay ready")
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 relay")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			if rejectRcpt {
				say("550 no such mailbox")
				continue
			}
			r.rcpt <- strings.TrimSpace(line[len("RCPT TO:"):])
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := in.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			r.msgs <- b.String()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 unsupported")
		}
	}
}

func TestSendDeliversCodeToRelay(t *testing.T) {
	r := startRelay(t, false)
	m, err := NewSMTP("smtp://"+r.ln.Addr().String()+"?from=no-reply@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), userpool.Delivery{Destination: "ann@example.com", Kind: userpool.KindSignUp, Code: "123456"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := <-r.rcpt; got != "<ann@example.com>" {
		t.Errorf("RCPT TO %s", got)
	}
	msg := <-r.msgs
	for _, want := range []string{"From: no-reply@example.com", "To: ann@example.com", "Subject: Your verification code", "Your code is 123456"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func TestSendReportsRejection(t *testing.T) {
	r := startRelay(t, true)
	m, err := NewSMTP("smtp://"+r.ln.Addr().String()+"?from=no-reply@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), userpool.Delivery{Destination: "ann@example.com", Code: "1"}); err == nil || !strings.Contains(err.Error(), "rcpt") {
		t.Fatalf("Send to a rejected mailbox: %v", err)
	}
}

func TestNewSMTPValidates(t *testing.T) {
	for _, raw := range []string{"http://h?from=a@b.c", "smtp://?from=a@b.c", "smtp://h", "smtp://h?from=not-an-address", "::"} {
		if _, err := NewSMTP(raw, nil); err == nil {
			t.Errorf("NewSMTP(%q) accepted", raw)
		}
	}
	m, err := NewSMTP("smtps://u:p@mail.example.com?from=a@example.com", nil)
	if err != nil || m.addr != "mail.example.com:465" || !m.implicit || m.auth == nil {
		t.Fatalf("smtps parse: %+v %v", m, err)
	}
}

func TestHeaderInjectionImpossible(t *testing.T) {
	m, _ := NewSMTP("smtp://127.0.0.1:1?from=a@example.com", nil)
	err := m.Send(context.Background(), userpool.Delivery{Destination: "x@example.com\r\nBcc: evil@example.com", Code: "1"})
	if err == nil || !strings.Contains(err.Error(), "recipient") {
		t.Fatalf("injected recipient accepted: %v", err)
	}
}

// TestSendCustomMessage: the CustomMessage trigger's subject and body
// replace the defaults, a non-ASCII subject MIME-encoded.
func TestSendCustomMessage(t *testing.T) {
	r := startRelay(t, false)
	m, err := NewSMTP("smtp://"+r.ln.Addr().String()+"?from=no-reply@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		d           userpool.Delivery
		want, avoid []string
	}{
		{"ASCII", userpool.Delivery{Destination: "ann@example.com", Kind: userpool.KindSignUp, Code: "123456",
			Subject: "Welcome to Acme", Body: "Hello,\nyour Acme code is 123456."},
			[]string{"Subject: Welcome to Acme\r\n", "Hello,\r\nyour Acme code is 123456."}, []string{"Your code is"}},
		{"UTF-8 subject", userpool.Delivery{Destination: "ann@example.com", Kind: userpool.KindAdminCreateUser, Code: "Tmp-pass1",
			Subject: "Bienvenue chez Acme ✓", Body: "Bonjour ann, mot de passe : Tmp-pass1"},
			[]string{"Subject: =?utf-8?q?Bienvenue_chez_Acme_=E2=9C=93?=", "Bonjour ann, mot de passe : Tmp-pass1"},
			[]string{"temporary password is"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.Send(t.Context(), tc.d); err != nil {
				t.Fatalf("Send: %v", err)
			}
			<-r.rcpt
			msg := <-r.msgs
			for _, want := range tc.want {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			for _, avoid := range tc.avoid {
				if strings.Contains(msg, avoid) {
					t.Errorf("message has the default %q:\n%s", avoid, msg)
				}
			}
		})
	}
}
