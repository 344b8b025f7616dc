package userpool

// Triggers: Cognito's Lambda triggers, delivered as webhooks. The domain
// builds each event exactly as Cognito shapes it for a Lambda, hands it to
// an Invoker (HTTP lives outside the domain, in package triggers) and reads
// the event the webhook sends back.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/cognate-auth/cognate/storage"
)

// Invoker delivers a trigger's event to its webhook.
type Invoker interface {
	// Invoke posts call.Event to call.URL, signed with call.Key, and
	// returns the body of a successful answer. A webhook's own refusal
	// comes back as a *HookError; any other error is a failure to get an
	// answer (unreachable, timed out, redirected, oversized, not 200).
	Invoke(ctx context.Context, call HookCall) ([]byte, error)
	// CheckURL reports why a webhook URL may not be configured, or nil.
	CheckURL(raw string) error
}

// HookCall is one webhook invocation.
type HookCall struct {
	// Trigger names the trigger (PreSignUp, …), for logs.
	Trigger string
	URL     string
	// Key signs the request: the pool's webhook secret (WebhookSecret).
	Key   []byte
	Event []byte
}

// HookError is a webhook's own refusal: what a Lambda function's thrown
// error is to Cognito. Message becomes the client's error message.
type HookError struct {
	Message string
}

func (e *HookError) Error() string { return "webhook refused: " + e.Message }

// ErrHookUnavailable is wrapped by an Invoker's errors when it refuses to
// call (a private address not allowed, say).
var ErrHookUnavailable = errors.New("webhook unavailable")

// Trigger failures, as Cognito names them.
var (
	ErrUnexpectedLambda      = newErr("UnexpectedLambdaException", "Unexpected error from the trigger.")
	ErrInvalidLambdaResponse = newErr("InvalidLambdaResponseException", "Unrecognizable lambda output")
)

// webhookSecretPrefix names, among the server's secrets, a pool's webhook
// signing key.
const webhookSecretPrefix = "triggers/webhook/"

// WebhookSecret returns the key that signs a pool's webhook requests,
// creating it on first use. Webhooks verify the X-Cognate-Signature header
// with it; `cognate admin webhook-secret` prints it.
func WebhookSecret(ctx context.Context, secrets storage.Secrets, poolID string) ([]byte, error) {
	return secrets.GetOrCreateSecret(ctx, webhookSecretPrefix+poolID, func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := io.ReadFull(rand.Reader, b)
		return b, err
	})
}

// webhookKeys caches pools' webhook secrets, which never change.
type webhookKeys struct {
	mu   sync.Mutex
	keys map[string][]byte
}

func (s *Service) webhookKey(ctx context.Context, poolID string) ([]byte, error) {
	s.hookKeys.mu.Lock()
	k, ok := s.hookKeys.keys[poolID]
	s.hookKeys.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := WebhookSecret(ctx, s.store, poolID)
	if err != nil {
		return nil, err
	}
	s.hookKeys.mu.Lock()
	if s.hookKeys.keys == nil {
		s.hookKeys.keys = map[string][]byte{}
	}
	s.hookKeys.keys[poolID] = k
	s.hookKeys.mu.Unlock()
	return k, nil
}

// callerContext is the event's callerContext.
type callerContext struct {
	AWSSDKVersion string `json:"awsSdkVersion"`
	ClientID      string `json:"clientId"`
}

// hookEvent is the envelope every trigger event shares.
type hookEvent struct {
	Version       string        `json:"version"`
	TriggerSource string        `json:"triggerSource"`
	Region        string        `json:"region"`
	UserPoolID    string        `json:"userPoolId"`
	UserName      string        `json:"userName"`
	CallerContext callerContext `json:"callerContext"`
	Request       any           `json:"request"`
	Response      any           `json:"response"`
}

// sdkVersion is what Cognito reports as the caller's SDK in events.
const sdkVersion = "aws-sdk-unknown-unknown"

// hook is one trigger invocation to make.
type hook struct {
	trigger  string // PreSignUp, …: the name in error messages
	url      string
	source   string // the triggerSource
	version  string // the event version; "" means "1"
	pool     storage.Pool
	clientID string
	userName string
	request  any
	// response is the default response sent, and where the webhook's
	// response is decoded.
	response any
}

// call invokes a hook and decodes the webhook's response into
// h.response. Every failure is the error Cognito gives for it, logged.
func (s *Service) call(ctx context.Context, h hook) error {
	if s.invoker == nil {
		return errorf(ErrUnexpectedLambda, "%s invocation failed: no webhook invoker is configured.", h.trigger)
	}
	if h.version == "" {
		h.version = "1"
	}
	ev := hookEvent{
		Version: h.version, TriggerSource: h.source, Region: regionOf(h.pool.ID), UserPoolID: h.pool.ID,
		UserName: h.userName, CallerContext: callerContext{AWSSDKVersion: sdkVersion, ClientID: h.clientID},
		Request: h.request, Response: h.response,
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return internal("encode trigger event", err)
	}
	key, err := s.webhookKey(ctx, h.pool.ID)
	if err != nil {
		return internal("webhook secret", err)
	}
	out, err := s.invoker.Invoke(ctx, HookCall{Trigger: h.trigger, URL: h.url, Key: key, Event: body})
	var refused *HookError
	switch {
	case errors.As(err, &refused):
		s.log.InfoContext(ctx, "trigger refused", "pool", h.pool.ID, "trigger", h.trigger, "message", refused.Message)
		return errorf(ErrUserLambdaValidation, "%s failed with error %s.", h.trigger, refused.Message)
	case errors.Is(err, context.DeadlineExceeded):
		s.log.WarnContext(ctx, "trigger failed", "pool", h.pool.ID, "trigger", h.trigger, "err", err)
		return errorf(ErrUnexpectedLambda, "%s invocation failed due to error Socket timeout while invoking Lambda function.", h.trigger)
	case err != nil:
		s.log.WarnContext(ctx, "trigger failed", "pool", h.pool.ID, "trigger", h.trigger, "err", err)
		return errorf(ErrUnexpectedLambda, "%s invocation failed due to error %s.", h.trigger, hookFailure(err))
	}
	if err := decodeHookResponse(out, h.response); err != nil {
		s.log.WarnContext(ctx, "trigger answered garbage", "pool", h.pool.ID, "trigger", h.trigger, "err", err)
		return errorf(ErrInvalidLambdaResponse, "Unrecognizable lambda output")
	}
	return nil
}

// hookFailure is the part of an invoker's error a client may see: the
// kind of failure, never an address.
func hookFailure(err error) string {
	var f interface{ Kind() string }
	if errors.As(err, &f) {
		return f.Kind()
	}
	return "webhook unreachable"
}

// decodeHookResponse reads the event a webhook sends back and decodes its
// response member into dst, strictly: a member of the wrong type is an
// error, as is anything but one JSON object.
func decodeHookResponse(body []byte, dst any) error {
	var ev struct {
		Response json.RawMessage `json:"response"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	if dec.More() {
		return errors.New("event: data after the JSON object")
	}
	if len(ev.Response) == 0 || string(ev.Response) == "null" {
		return nil
	}
	if ev.Response[0] != '{' {
		return errors.New("event: response is not an object")
	}
	return json.Unmarshal(ev.Response, dst)
}

// lambdaConfig is the pool's trigger configuration (never nil).
func lambdaConfig(p storage.Pool) storage.LambdaConfig {
	if p.Settings.LambdaConfig == nil {
		return storage.LambdaConfig{}
	}
	return *p.Settings.LambdaConfig
}

// hookAttributes is a user's attributes as events carry them.
func hookAttributes(u storage.User) map[string]string {
	out := make(map[string]string, len(u.Attributes)+1)
	for k, v := range u.Attributes {
		out[k] = v
	}
	out["cognito:user_status"] = string(u.Status)
	return out
}

// nonNil keeps absent maps as {} in events, as Cognito sends them.
func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// WebhookSecret returns the key that signs a pool's webhook requests.
func (s *Service) WebhookSecret(ctx context.Context, poolID string) ([]byte, error) {
	if _, err := s.pool(ctx, poolID); err != nil {
		return nil, err
	}
	return s.webhookKey(ctx, poolID)
}
