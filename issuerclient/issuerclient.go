// Package issuerclient is an HTTP client for a Cognito-compatible token issuer:
// the user-pool JSON 1.1 API (SRP sign-in, challenges, refresh, revocation,
// GetUser) and the OAuth 2.0 token and revocation endpoints. It talks HTTP
// only, so it works against Cognate, against Amazon Cognito and, for the
// OAuth calls, against any OAuth 2.0 / OIDC issuer.
//
// Answers from the issuer come back as *Error. Failures that say nothing
// about the caller's credentials (the network, 5xx, throttling, answers
// that are not the protocol's) wrap ErrUnavailable, so a session layer can
// keep a session through an outage and end it only when IsTerminal says so.
package issuerclient

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// defaultTimeout bounds each call when Config.HTTPClient is nil.
const defaultTimeout = 10 * time.Second

// Config names the issuer and the app client.
type Config struct {
	// Region derives Endpoint when it is empty; when Region is empty too,
	// it is read from UserPoolID ("us-east-1_xxx").
	Region string
	// UserPoolID ("us-east-1_xxx") is needed for SRP (the pool name) and
	// for IssuerURL.
	UserPoolID string
	ClientID   string
	// ClientSecret is optional; when set, SECRET_HASH (JSON API) and
	// client_secret_basic (OAuth endpoints) are sent.
	ClientSecret string
	// Endpoint is the JSON 1.1 API base URL; "" means
	// https://cognito-idp.<region>.amazonaws.com.
	Endpoint string
	// OAuthDomain is the base URL of /oauth2/token and /oauth2/revoke; it
	// may be "" when the OAuth calls are not used.
	OAuthDomain string
	// HTTPClient makes every call; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger gets one debug line per call (never a token); nil discards.
	Logger *slog.Logger
}

// Client calls one issuer for one app client. It is safe for concurrent
// use.
type Client struct {
	cfg      Config
	endpoint string // JSON API base, no trailing slash
	oauth    string // OAuth base, no trailing slash
	http     *http.Client
	log      *slog.Logger
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("issuer: ClientID is required")
	}
	if cfg.Endpoint == "" {
		region := cfg.Region
		if region == "" {
			region, _, _ = strings.Cut(cfg.UserPoolID, "_")
		}
		if region != "" && validRegion(region) {
			cfg.Endpoint = "https://cognito-idp." + region + ".amazonaws.com"
		}
	}
	if cfg.Endpoint == "" && cfg.OAuthDomain == "" {
		return nil, errors.New("issuer: set Endpoint, Region, a UserPoolID with a region, or OAuthDomain")
	}
	for name, u := range map[string]string{"Endpoint": cfg.Endpoint, "OAuthDomain": cfg.OAuthDomain} {
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("issuer: %s %q is not an http(s) URL", name, u)
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		cfg:      cfg,
		endpoint: strings.TrimRight(cfg.Endpoint, "/"),
		oauth:    strings.TrimRight(cfg.OAuthDomain, "/"),
		http:     cfg.HTTPClient,
		log:      cfg.Logger,
	}, nil
}

// validRegion accepts region names such as us-east-1 or us-gov-west-1,
// so that a pool ID cannot inject a host name.
func validRegion(r string) bool {
	for _, c := range r {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Config returns the configuration with its defaults filled in (Endpoint
// derived, HTTPClient and Logger set).
func (c *Client) Config() Config { return c.cfg }

// IssuerURL is the token issuer: Endpoint (no trailing slash) + "/" +
// UserPoolID, which is right for Amazon Cognito and for Cognate (whose
// JSON API is at its public URL and whose issuer is <public-url>/<pool>).
func (c *Client) IssuerURL() string { return c.endpoint + "/" + c.cfg.UserPoolID }

// Tokens are what a sign-in or refresh yields.
type Tokens struct {
	AccessToken, IDToken string
	// RefreshToken is "" on a refresh that did not rotate it.
	RefreshToken string
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int
}

// Result is the outcome of a sign-in step: tokens, or the next challenge.
type Result struct {
	// Tokens is non-nil when the user is signed in.
	Tokens *Tokens
	// Challenge names the next step, e.g. NEW_PASSWORD_REQUIRED, SMS_MFA,
	// SOFTWARE_TOKEN_MFA.
	Challenge string
	// Session carries the challenge's state back to the issuer.
	Session string
	// Parameters are the challenge's ChallengeParameters.
	Parameters map[string]string
	// AvailableChallenges are the first factors a SELECT_CHALLENGE step
	// offers (EMAIL_OTP, SMS_OTP, PASSWORD, PASSWORD_SRP, WEB_AUTHN).
	AvailableChallenges []string
	// Username is the pool's name for the user (USER_ID_FOR_SRP or
	// USERNAME from the challenge); answers to the challenge use it.
	Username string
}

// User is GetUser's answer.
type User struct {
	Username   string
	Attributes map[string]string
}

// ErrUnavailable is wrapped by every failure that is not the issuer's
// verdict on the request: network errors, timeouts, 5xx, throttling and
// answers that are not the protocol's. Such failures are never terminal.
var ErrUnavailable = errors.New("issuer unavailable")

// Error is an error answer from the issuer.
type Error struct {
	// Type is Cognito's __type short name (NotAuthorizedException) or the
	// OAuth error code (invalid_grant).
	Type    string
	Message string
	// Status is the HTTP status of the answer.
	Status int
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("issuer: %s (HTTP %d)", e.Type, e.Status)
	}
	return fmt.Sprintf("issuer: %s: %s (HTTP %d)", e.Type, e.Message, e.Status)
}

// terminalTypes are the answers after which a session cannot go on: the
// ones on which Amplify clears its tokens, and OAuth's invalid_grant.
var terminalTypes = map[string]bool{
	"NotAuthorizedException":         true,
	"TokenRevokedException":          true,
	"UserNotFoundException":          true,
	"PasswordResetRequiredException": true,
	"UserNotConfirmedException":      true,
	"RefreshTokenReuseException":     true,
	"invalid_grant":                  true,
}

// IsTerminal reports whether err means the session is over:
// NotAuthorizedException, TokenRevokedException, UserNotFoundException,
// PasswordResetRequiredException, UserNotConfirmedException,
// RefreshTokenReuseException or invalid_grant. Anything wrapping
// ErrUnavailable is not terminal.
func IsTerminal(err error) bool {
	var e *Error
	if !errors.As(err, &e) || errors.Is(err, ErrUnavailable) {
		return false
	}
	return terminalTypes[e.Type]
}

// unavailableTypes are error answers that say the issuer is overloaded or
// broken, not that the request was wrong.
var unavailableTypes = map[string]bool{
	"TooManyRequestsException": true,
	"ThrottlingException":      true,
	"InternalErrorException":   true,
	"server_error":             true,
	"temporarily_unavailable":  true,
}

// classify wraps an error answer in ErrUnavailable when it is a 5xx, a
// 429 or a throttling or internal-error type.
func classify(e *Error) error {
	if e.Status >= 500 || e.Status == http.StatusTooManyRequests || unavailableTypes[e.Type] {
		return fmt.Errorf("%w: %w", ErrUnavailable, e)
	}
	return e
}

// maxBody bounds every answer read from the issuer.
const maxBody = 1 << 20

// readBody reads a bounded response body.
func readBody(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer: %w", ErrUnavailable, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrUnavailable, maxBody)
	}
	return body, nil
}

// malformed is an answer that is not the protocol's (an HTML error page
// from a proxy, a truncated body).
func malformed(op string, status int, body []byte) error {
	const clip = 120
	s := string(body)
	if len(s) > clip {
		s = s[:clip] + "…"
	}
	return fmt.Errorf("%w: %s: unexpected answer (HTTP %d): %q", ErrUnavailable, op, status, s)
}
