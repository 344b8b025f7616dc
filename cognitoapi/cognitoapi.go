// Package cognitoapi serves Cognito's user-pool JSON 1.1 protocol:
// POST / with X-Amz-Target: AWSCognitoIdentityProviderService.<Op>. It
// decodes requests into userpool's shapes, authenticates admin operations
// with SigV4, and encodes results and errors exactly as Cognito clients
// (Amplify, the AWS SDKs) parse them.
package cognitoapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cognate-auth/cognate/internal/ratelimit"
	"github.com/cognate-auth/cognate/internal/sigv4"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// TargetPrefix is the X-Amz-Target prefix of every operation.
const TargetPrefix = "AWSCognitoIdentityProviderService."

// MaxBodyBytes bounds a request body; larger ones are refused unread.
// Cognito's largest legitimate requests (attribute lists) are far below.
const MaxBodyBytes = 64 << 10

const contentType = "application/x-amz-json-1.1"

// Options configure a Handler.
type Options struct {
	Service *userpool.Service
	// Credentials resolves admin access keys for SigV4; nil refuses every
	// admin operation.
	Credentials sigv4.CredentialsFunc
	// Regions are the regions admin requests may be signed for: the
	// region prefixes of the pool ids. Empty accepts any.
	Regions []string
	Logger  *slog.Logger
	// Registerer receives the handler's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock for signature checks; nil means time.Now.
	Now func() time.Time
	// GuessLimiter throttles, per client address, the operations that
	// test a password or a code; nil means no per-address limit (per-user
	// lockout still applies).
	GuessLimiter ratelimit.Allower
	// ClientAddr names the client of a request for GuessLimiter; nil
	// means the TCP peer's IP. Return "" to exempt a request.
	ClientAddr func(*http.Request) string
}

// Handler is the http.Handler of the JSON protocol.
type Handler struct {
	ops        map[string]operation
	verify     *sigv4.Verifier
	log        *slog.Logger
	latency    *prometheus.HistogramVec
	limiter    ratelimit.Allower
	clientAddr func(*http.Request) string
}

type operation struct {
	signed bool
	// guessable operations check a password or a code: they are what an
	// attacker repeats, so they are rate limited per client address.
	guessable bool
	run       func(ctx context.Context, body []byte) (any, error)
}

// op adapts a userpool method to the wire: decode In, call, return Out.
func op[In, Out any](signed bool, fn func(context.Context, In) (Out, error)) operation {
	return operation{signed: signed, run: func(ctx context.Context, body []byte) (any, error) {
		var in In
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		return fn(ctx, in)
	}}
}

// New returns the protocol handler.
func New(opts Options) *Handler {
	h := &Handler{log: opts.Logger, limiter: opts.GuessLimiter, clientAddr: opts.ClientAddr}
	if h.clientAddr == nil {
		h.clientAddr = PeerIP
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	creds := opts.Credentials
	if creds == nil {
		creds = func(string) (string, bool) { return "", false }
	}
	h.verify = &sigv4.Verifier{Service: "cognito-idp", Regions: opts.Regions, Lookup: creds, Now: opts.Now}
	h.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cognate_cognito_api_request_duration_seconds",
		Help:    "Cognito JSON API requests by operation and outcome (__type, or ok).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"operation", "outcome"})
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(h.latency)
	}
	h.ops = operations(opts.Service)
	for _, name := range guessable {
		o := h.ops[name]
		o.guessable = true
		h.ops[name] = o
	}
	return h
}

var guessable = []string{
	"InitiateAuth", "RespondToAuthChallenge", "SignUp", "ConfirmSignUp", "ResendConfirmationCode",
	"ForgotPassword", "ConfirmForgotPassword", "ChangePassword", "VerifyUserAttribute", "GetUserAttributeVerificationCode",
}

// deviceAddr is the address recorded as a device's last_ip_used: the
// client's, or for a request exempt from the per-address limit (one
// straight from this machine) the TCP peer's.
func (h *Handler) deviceAddr(r *http.Request) string {
	if addr := h.clientAddr(r); addr != "" {
		return addr
	}
	return PeerIP(r)
}

// PeerIP is the IP of the TCP peer.
func PeerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// operations is the table of operations: the core here, each further area
// (MFA, devices, passkeys, identity providers, import jobs, …) from a
// function of its own file, merged in below.
func operations(s *userpool.Service) map[string]operation {
	const public, admin = false, true
	ops := map[string]operation{
		"SignUp":                           op(public, s.SignUp),
		"ConfirmSignUp":                    op(public, s.ConfirmSignUp),
		"ResendConfirmationCode":           op(public, s.ResendConfirmationCode),
		"InitiateAuth":                     op(public, s.InitiateAuth),
		"RespondToAuthChallenge":           op(public, s.RespondToAuthChallenge),
		"GetTokensFromRefreshToken":        op(public, s.GetTokensFromRefreshToken),
		"RevokeToken":                      op(public, s.RevokeToken),
		"GlobalSignOut":                    op(public, s.GlobalSignOut),
		"GetUser":                          op(public, s.GetUser),
		"UpdateUserAttributes":             op(public, s.UpdateUserAttributes),
		"DeleteUserAttributes":             op(public, s.DeleteUserAttributes),
		"GetUserAttributeVerificationCode": op(public, s.GetUserAttributeVerificationCode),
		"VerifyUserAttribute":              op(public, s.VerifyUserAttribute),
		"ChangePassword":                   op(public, s.ChangePassword),
		"ForgotPassword":                   op(public, s.ForgotPassword),
		"ConfirmForgotPassword":            op(public, s.ConfirmForgotPassword),
		"DeleteUser":                       op(public, s.DeleteUser),

		"CreateUserPool":           op(admin, s.CreateUserPool),
		"DescribeUserPool":         op(admin, s.DescribeUserPool),
		"ListUserPools":            op(admin, s.ListUserPools),
		"CreateUserPoolClient":     op(admin, s.CreateUserPoolClient),
		"DescribeUserPoolClient":   op(admin, s.DescribeUserPoolClient),
		"UpdateUserPoolClient":     op(admin, s.UpdateUserPoolClient),
		"ListUserPoolClients":      op(admin, s.ListUserPoolClients),
		"AdminCreateUser":          op(admin, s.AdminCreateUser),
		"AdminGetUser":             op(admin, s.AdminGetUser),
		"AdminDeleteUser":          op(admin, s.AdminDeleteUser),
		"AdminConfirmSignUp":       op(admin, s.AdminConfirmSignUp),
		"AdminSetUserPassword":     op(admin, s.AdminSetUserPassword),
		"AdminDisableUser":         op(admin, s.AdminDisableUser),
		"AdminEnableUser":          op(admin, s.AdminEnableUser),
		"AdminUserGlobalSignOut":   op(admin, s.AdminUserGlobalSignOut),
		"AdminAddUserToGroup":      op(admin, s.AdminAddUserToGroup),
		"AdminRemoveUserFromGroup": op(admin, s.AdminRemoveUserFromGroup),
		"CreateGroup":              op(admin, s.CreateGroup),
		"ListGroups":               op(admin, s.ListGroups),
		"ListUsers":                op(admin, s.ListUsers),
		"AdminListGroupsForUser":   op(admin, s.AdminListGroupsForUser),
	}
	maps.Copy(ops, webAuthnOperations(s))
	maps.Copy(ops, deviceOperations(s))
	maps.Copy(ops, userAuthOperations(s))
	maps.Copy(ops, importOperations(s))
	maps.Copy(ops, idpOperations(s))
	maps.Copy(ops, triggerOperations(s))
	maps.Copy(ops, mfaOperations(s))
	maps.Copy(ops, samlOperations(s))
	return ops
}

// ServeHTTP answers one protocol request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setCORS(w.Header())
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		h.fail(w, r, "", http.StatusMethodNotAllowed, "UnknownOperationException", "Only POST is supported.")
		return
	}
	name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	o, known := h.ops[name]
	if !ok || !known {
		h.fail(w, r, "", http.StatusBadRequest, "UnknownOperationException", "")
		return
	}
	if o.guessable && h.limiter != nil {
		if addr := h.clientAddr(r); addr != "" {
			if ok, wait := h.limiter.Allow(r.Context(), addr); !ok {
				secs := int(wait.Seconds()) + 1
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				h.fail(w, r, name, http.StatusBadRequest, "TooManyRequestsException", fmt.Sprintf("Too many attempts from this address; retry in %d s.", secs))
				return
			}
		}
	}
	if r.ContentLength > MaxBodyBytes {
		h.fail(w, r, name, http.StatusRequestEntityTooLarge, "SerializationException", fmt.Sprintf("Request body exceeds %d bytes.", MaxBodyBytes))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		h.fail(w, r, name, http.StatusRequestEntityTooLarge, "SerializationException", fmt.Sprintf("Request body exceeds %d bytes.", MaxBodyBytes))
		return
	}
	if err != nil {
		h.fail(w, r, name, http.StatusBadRequest, "SerializationException", "Could not read the request body.")
		return
	}
	if hasNUL(body) {
		h.fail(w, r, name, http.StatusBadRequest, userpool.ErrInvalidParameter.Type, unstorableMessage)
		return
	}
	if o.signed {
		if _, err := h.verify.Verify(r, body); err != nil {
			status, typ, msg := sigv4.ErrorCode(err)
			h.fail(w, r, name, status, typ, msg)
			return
		}
	}
	start := time.Now()
	out, err := o.run(userpool.WithClientAddr(r.Context(), h.deviceAddr(r)), body)
	if err != nil {
		h.failWith(w, r, name, err)
		return
	}
	h.latency.WithLabelValues(name, "ok").Observe(time.Since(start).Seconds())
	h.write(w, http.StatusOK, out)
}

// setCORS lets browser clients (Amplify) call the API from any origin.
// No cookies are involved, so a wildcard origin exposes nothing.
func setCORS(hd http.Header) {
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "content-type, x-amz-target, x-amz-user-agent, cache-control, authorization, x-amz-date, x-amz-security-token, x-amz-content-sha256, amz-sdk-invocation-id, amz-sdk-request")
	hd.Set("Access-Control-Expose-Headers", "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date")
	hd.Set("Access-Control-Max-Age", "86400")
}

func (h *Handler) write(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		h.log.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"__type":"InternalErrorException","message":"Internal server error."}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// failWith reports a domain error; only InternalErrorException is a 500,
// and its cause is logged, never sent. Storage that cannot be reached
// (storage.ErrUnavailable) is an InternalErrorException with 503 and
// Retry-After, which AWS SDKs retry.
func (h *Handler) failWith(w http.ResponseWriter, r *http.Request, op string, err error) {
	if errors.Is(err, storage.ErrInvalidValue) {
		h.fail(w, r, op, http.StatusBadRequest, userpool.ErrInvalidParameter.Type, unstorableMessage)
		return
	}
	if errors.Is(err, storage.ErrUnavailable) {
		h.log.WarnContext(r.Context(), "storage unavailable", "operation", op, "err", err)
		w.Header().Set("Retry-After", "1")
		h.fail(w, r, op, http.StatusServiceUnavailable, userpool.ErrInternal.Type, "The service is temporarily unavailable; retry the request.")
		return
	}
	var e *userpool.Error
	if !errors.As(err, &e) {
		e = &userpool.Error{Type: userpool.ErrInternal.Type, Message: userpool.ErrInternal.Message, Internal: true}
	}
	status := http.StatusBadRequest
	if e.Internal {
		status = http.StatusInternalServerError
		h.log.ErrorContext(r.Context(), "internal error", "operation", op, "err", err)
	}
	h.fail(w, r, op, status, e.Type, e.Message)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, op string, status int, typ, msg string) {
	if op != "" {
		h.latency.WithLabelValues(op, typ).Observe(0)
	}
	w.Header().Set("x-amzn-ErrorType", typ)
	h.write(w, status, struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{typ, msg})
}
