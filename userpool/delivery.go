package userpool

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// Delivery kinds.
const (
	KindSignUp          = "sign_up"
	KindForgotPassword  = "forgot_password"
	KindVerifyAttribute = "verify_attribute"
	KindAdminCreateUser = "admin_create_user"
	// KindSignInCode is a one-time code of choice-based sign-in
	// (EMAIL_OTP, SMS_OTP), by email or SMS per the message's attribute.
	KindSignInCode = "sign_in_code"
	// KindMFAEmail and KindMFASMS are sign-in codes (EMAIL_OTP, SMS_MFA);
	// KindMFASMS goes to a phone number, through the SMSSender.
	KindMFAEmail = "mfa_email"
	KindMFASMS   = "mfa_sms"
)

// Delivery is one code (or temporary password) to send to a user.
type Delivery struct {
	PoolID      string
	Username    string
	Destination string // an email address, or a phone number ("+…") for SMSSender
	Kind        string
	Code        string
	// Subject and Body are the CustomMessage trigger's text, the code
	// substituted; empty means the sender's default text.
	Subject string
	Body    string
}

// Sender delivers codes. Send must not return before the message is
// durably handed off: a message it accepted is never sent again.
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// SMSSender delivers the codes that go to a phone number (E.164, "+…"),
// under the same contract as Sender: the pluggable text-message provider
// of a production install.
type SMSSender interface {
	SendSMS(ctx context.Context, d Delivery) error
}

// errNoSMSSender is a text message's delivery failure when no SMSSender
// is configured next to a Sender (it stays queued and is retried).
var errNoSMSSender = errors.New("no SMS sender configured")

// Delivery queue tuning. A message is queued in the transaction that
// stores its code, so a request never waits for a mail relay (whose
// latency would tell a real user from an unknown one) and a message is
// never lost once the caller was told it went out.
const (
	// deliveryLease is how long a claimed message is left to its
	// dispatcher before another may retry it.
	deliveryLease = 2 * time.Minute
	// deliveryPoll is how often the dispatcher looks for retries and for
	// messages queued by other nodes.
	deliveryPoll = 5 * time.Second
	// deliveryBatch bounds how many messages one claim takes.
	deliveryBatch = 16
	// deliveryGiveUp is how old a message may get before delivery stops:
	// by then its code has expired.
	deliveryGiveUp = 24 * time.Hour
	// maxRetryDelay caps the doubling delay between attempts.
	maxRetryDelay = 30 * time.Minute
)

// queue adds a message for dest to tx, which must be the transaction that
// stores what the message carries, and describes where it goes, masked as
// Cognito masks it (a***@e***). text is what the CustomMessage trigger
// answered (see customMessage), kept as templates. Callers wake the
// dispatcher after the commit (see sendAtomic).
func (s *Service) queue(ctx context.Context, tx storage.Storage, u storage.User, kind, attr, dest, code string, text customText) (*CodeDeliveryDetails, error) {
	if dest == "" {
		return nil, errorf(ErrInvalidParameter, "User has no value for %s to send a code to.", attr)
	}
	now := s.now()
	m := storage.Message{PoolID: u.PoolID, Username: u.Username, Destination: dest, Kind: kind, Code: code,
		CreatedAt: now, NextAttemptAt: now, Subject: text.subject, Body: text.body}
	if s.sender == nil {
		m.DoneAt = now // the outbox is the destination
	}
	if err := tx.AddMessage(ctx, m); err != nil {
		return nil, internal("queue message", err)
	}
	if attr == "phone_number" {
		return &CodeDeliveryDetails{Destination: maskPhone(dest), DeliveryMedium: "SMS", AttributeName: attr}, nil
	}
	return &CodeDeliveryDetails{Destination: maskEmail(dest), DeliveryMedium: "EMAIL", AttributeName: attr}, nil
}

// sendAtomic runs fn, which queues messages on the tx it gets, in one
// transaction, then wakes the dispatcher.
func (s *Service) sendAtomic(ctx context.Context, fn func(ctx context.Context, tx storage.Storage) error) error {
	err := s.store.Atomic(ctx, fn)
	if err == nil && s.sender != nil {
		select {
		case s.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
	return err
}

// RunDelivery hands queued messages to the Sender until ctx is done,
// retrying failures with a doubling delay. With no Sender (the
// development outbox) it returns at once. Several dispatchers, on one
// node or many, may run against one store: each message is claimed by one
// at a time.
func (s *Service) RunDelivery(ctx context.Context) {
	if s.sender == nil {
		return
	}
	t := time.NewTicker(deliveryPoll)
	defer t.Stop()
	for {
		for s.deliverBatch(ctx) == deliveryBatch && ctx.Err() == nil {
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// deliverBatch claims and sends one batch, returning how many it claimed.
func (s *Service) deliverBatch(ctx context.Context) int {
	ms, err := s.store.ClaimMessages(ctx, s.now(), deliveryLease, deliveryBatch)
	if err != nil {
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "claim messages", "err", err)
		}
		return 0
	}
	for _, m := range ms {
		s.deliverOne(ctx, m)
	}
	return len(ms)
}

func (s *Service) deliverOne(ctx context.Context, m storage.Message) {
	d := Delivery{PoolID: m.PoolID, Username: m.Username, Destination: m.Destination, Kind: m.Kind, Code: m.Code}
	d.Subject, d.Body = RenderMessage(m)
	var err error
	switch {
	case !strings.HasPrefix(m.Destination, "+"): // an email address
		err = s.sender.Send(ctx, d)
	case s.sms != nil:
		err = s.sms.SendSMS(ctx, d)
	default:
		err = errNoSMSSender
	}
	if err != nil && ctx.Err() != nil {
		return // shutting down: the lease runs out and another attempt follows
	}
	now := s.now()
	uerr := s.store.UpdateMessage(context.WithoutCancel(ctx), m.ID, func(m storage.Message) (storage.Message, error) {
		m.Attempts++
		switch {
		case err == nil:
			m.DoneAt, m.Code, m.LastError = now, "", ""
		case now.Sub(m.CreatedAt) >= deliveryGiveUp:
			m.DoneAt, m.Code, m.LastError = now, "", "gave up: "+truncate(err.Error(), 500)
		default:
			m.LastError = truncate(err.Error(), 500)
			m.NextAttemptAt = now.Add(retryDelay(m.Attempts))
		}
		return m, nil
	})
	switch {
	case uerr != nil:
		// Sent but not marked: the lease runs out and it goes again.
		s.log.ErrorContext(ctx, "record delivery", "message", m.ID, "err", uerr)
	case err != nil:
		s.log.WarnContext(ctx, "code delivery failed", "message", m.ID, "pool", m.PoolID, "kind", m.Kind, "attempt", m.Attempts+1, "err", err)
	}
}

// retryDelay doubles from 15 s with each failed attempt.
func retryDelay(attempts int) time.Duration {
	if attempts > 16 {
		return maxRetryDelay
	}
	return min(15*time.Second<<(attempts-1), maxRetryDelay)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func maskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" {
		return "***"
	}
	// Lower-cased, so the mask does not echo how a caller spelled a name.
	return strings.ToLower(local[:1]) + "***@" + strings.ToLower(domain[:1]) + "***"
}

// fakeDelivery answers as if a code went out to name, so a caller cannot
// tell whether the user exists or can receive codes. As in Cognito, what
// it shows depends only on the name: an email name is masked; any other
// name gets a stable, plausible masked address derived from it with a
// server key.
func (s *Service) fakeDelivery(p storage.Pool, name string) *CodeDeliveryDetails {
	dest := maskEmail(name)
	if dest == "***" {
		m := hmac.New(sha256.New, s.fakeKey)
		m.Write([]byte("dest\x00" + p.ID + "\x00" + name))
		sum := m.Sum(nil)
		const letters = "abcdefghijklmnopqrstuvwxyz"
		dest = string(letters[int(sum[0])%len(letters)]) + "***@" + string(letters[int(sum[1])%len(letters)]) + "***"
	}
	return &CodeDeliveryDetails{Destination: dest, DeliveryMedium: "EMAIL", AttributeName: "email"}
}
