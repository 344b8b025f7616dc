package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cognate-auth/cognate/triggers"
	"github.com/cognate-auth/cognate/userpool"
)

// smsWebhook is the text-message provider of an install that sends SMS
// codes (SMS MFA, SMS sign-in codes): each message is posted, signed the
// way trigger webhooks are (triggers.Sign, with the key of
// COGNATE_SMS_WEBHOOK_SECRET), to --sms-webhook-url, whose receiver
// hands it to the operator's provider. It goes through the trigger
// webhooks' client: the same address rules, timeout and size bounds.
type smsWebhook struct {
	inv *triggers.Client
	url string
	key []byte
}

// smsEvent is the body of an SMS webhook request.
type smsEvent struct {
	To         string `json:"to"`
	Message    string `json:"message"`
	Code       string `json:"code"`
	Kind       string `json:"kind"`
	UserPoolID string `json:"userPoolId"`
	Username   string `json:"userName"`
}

// errSMSWebhook wraps a refusal of the SMS webhook: the message stays
// queued and is tried again.
var errSMSWebhook = errors.New("SMS webhook")

// SendSMS posts d. A 200 answer means the receiver took the message.
func (w *smsWebhook) SendSMS(ctx context.Context, d userpool.Delivery) error {
	body, err := json.Marshal(smsEvent{
		To: d.Destination, Message: smsText(d), Code: d.Code,
		Kind: d.Kind, UserPoolID: d.PoolID, Username: d.Username,
	})
	if err != nil {
		return err
	}
	if _, err := w.inv.Invoke(ctx, userpool.HookCall{Trigger: "SMSSender", URL: w.url, Key: w.key, Event: body}); err != nil {
		return fmt.Errorf("%w: %w", errSMSWebhook, err)
	}
	return nil
}

// newSMSWebhook checks the configured URL and key; nil when none is set.
func newSMSWebhook(inv *triggers.Client, url string, key []byte) (*smsWebhook, error) {
	if url == "" {
		return nil, nil
	}
	if err := inv.CheckURL(url); err != nil {
		return nil, fmt.Errorf("--sms-webhook-url: %w", err)
	}
	if len(key) < 16 {
		return nil, errors.New("--sms-webhook-url needs COGNATE_SMS_WEBHOOK_SECRET, a signing key of at least 16 bytes")
	}
	return &smsWebhook{inv: inv, url: url, key: key}, nil
}

// smsText is the text of a message: the CustomMessage trigger's when it
// gave one.
func smsText(d userpool.Delivery) string {
	if d.Body != "" {
		return d.Body
	}
	return "Your verification code is " + d.Code
}
