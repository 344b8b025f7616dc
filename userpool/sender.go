package userpool

import (
	"context"
	"fmt"
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
)

// Delivery is one code (or temporary password) to send to a user.
type Delivery struct {
	PoolID      string
	Username    string
	Destination string // an email address
	Kind        string
	Code        string
}

// Sender delivers codes. Send must not return before the message is
// durably handed off: a user told "code sent" must get it.
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// OutboxSender keeps deliveries in the database for the development
// outbox page instead of sending them.
type OutboxSender struct{ Store storage.Storage }

// Send stores d in the outbox.
func (o OutboxSender) Send(ctx context.Context, d Delivery) error {
	err := o.Store.AddMessage(ctx, storage.Message{
		PoolID: d.PoolID, Username: d.Username, Destination: d.Destination, Kind: d.Kind, Code: d.Code,
		CreatedAt: time.Now(),
	})
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// deliver sends a code and describes where it went, masked as Cognito
// masks it (a***@e***).
func (s *Service) deliver(ctx context.Context, u storage.User, kind, attr, dest, code string) (*CodeDeliveryDetails, error) {
	if dest == "" {
		return nil, errorf(ErrInvalidParameter, "User has no value for %s to send a code to.", attr)
	}
	err := s.sender.Send(ctx, Delivery{PoolID: u.PoolID, Username: u.Username, Destination: dest, Kind: kind, Code: code})
	if err != nil {
		s.log.ErrorContext(ctx, "code delivery failed", "pool", u.PoolID, "kind", kind, "err", err)
		return nil, ErrCodeDeliveryFailure
	}
	return &CodeDeliveryDetails{Destination: maskEmail(dest), DeliveryMedium: "EMAIL", AttributeName: attr}, nil
}

func maskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" {
		return "***"
	}
	return local[:1] + "***@" + domain[:1] + "***"
}
