package issuerclient

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/srp"
)

const (
	targetPrefix    = "AWSCognitoIdentityProviderService."
	jsonContentType = "application/x-amz-json-1.1"
)

// authResult is the JSON API's AuthenticationResult.
type authResult struct {
	AccessToken  string `json:"AccessToken"`
	IDToken      string `json:"IdToken"`
	RefreshToken string `json:"RefreshToken"`
	ExpiresIn    int    `json:"ExpiresIn"`
}

func (a *authResult) tokens() *Tokens {
	t := Tokens(*a)
	return &t
}

// authOutput is InitiateAuth's and RespondToAuthChallenge's answer.
type authOutput struct {
	ChallengeName        string            `json:"ChallengeName"`
	Session              string            `json:"Session"`
	ChallengeParameters  map[string]string `json:"ChallengeParameters"`
	AvailableChallenges  []string          `json:"AvailableChallenges"`
	AuthenticationResult *authResult       `json:"AuthenticationResult"`
}

// SignInSRP signs in with USER_SRP_AUTH and answers the PASSWORD_VERIFIER
// challenge. The Result holds tokens, or the next challenge (for example
// NEW_PASSWORD_REQUIRED or an MFA step) to pass to RespondToChallenge.
func (c *Client) SignInSRP(ctx context.Context, username, password string) (Result, error) {
	sc, err := srp.NewClient(c.cfg.UserPoolID)
	if err != nil {
		return Result{}, fmt.Errorf("issuer: SRP needs UserPoolID: %w", err)
	}
	params := map[string]string{"USERNAME": username, "SRP_A": sc.AHex()}
	c.addSecretHash(params, username)
	var out authOutput
	err = c.call(ctx, "InitiateAuth", map[string]any{
		"AuthFlow": "USER_SRP_AUTH", "ClientId": c.cfg.ClientID, "AuthParameters": params,
	}, &out)
	if err != nil {
		return Result{}, err
	}
	if out.ChallengeName != "PASSWORD_VERIFIER" {
		return c.result("InitiateAuth", out, username)
	}
	cp := out.ChallengeParameters
	userID := cp["USER_ID_FOR_SRP"]
	if userID == "" {
		return Result{}, malformed("InitiateAuth", http.StatusOK, []byte("PASSWORD_VERIFIER without USER_ID_FOR_SRP"))
	}
	sig, ts, err := sc.Respond(userID, password, cp["SALT"], cp["SRP_B"], cp["SECRET_BLOCK"], time.Now())
	if err != nil {
		// Parameters no real issuer sends: not a verdict on the password.
		return Result{}, fmt.Errorf("%w: PASSWORD_VERIFIER: %w", ErrUnavailable, err)
	}
	return c.RespondToChallenge(ctx, "PASSWORD_VERIFIER", out.Session, userID, map[string]string{
		"PASSWORD_CLAIM_SECRET_BLOCK": cp["SECRET_BLOCK"],
		"PASSWORD_CLAIM_SIGNATURE":    sig,
		"TIMESTAMP":                   ts,
	})
}

// RespondToChallenge answers a challenge with RespondToAuthChallenge.
// USERNAME (username) and SECRET_HASH are added to responses when they
// are missing; responses is not modified.
func (c *Client) RespondToChallenge(ctx context.Context, challenge, session, username string, responses map[string]string) (Result, error) {
	cr := make(map[string]string, len(responses)+2)
	for k, v := range responses {
		cr[k] = v
	}
	if cr["USERNAME"] == "" {
		cr["USERNAME"] = username
	}
	if cr["SECRET_HASH"] == "" {
		c.addSecretHash(cr, cr["USERNAME"])
	}
	in := map[string]any{"ChallengeName": challenge, "ClientId": c.cfg.ClientID, "ChallengeResponses": cr}
	if session != "" {
		in["Session"] = session
	}
	var out authOutput
	if err := c.call(ctx, "RespondToAuthChallenge", in, &out); err != nil {
		return Result{}, err
	}
	return c.result("RespondToAuthChallenge", out, cr["USERNAME"])
}

// result turns an auth answer into a Result; an answer with neither
// tokens nor a challenge is not the protocol's.
func (c *Client) result(op string, out authOutput, username string) (Result, error) {
	if out.AuthenticationResult != nil {
		if out.AuthenticationResult.AccessToken == "" {
			return Result{}, malformed(op, http.StatusOK, []byte("AuthenticationResult without AccessToken"))
		}
		return Result{Tokens: out.AuthenticationResult.tokens()}, nil
	}
	if out.ChallengeName == "" {
		return Result{}, malformed(op, http.StatusOK, []byte("neither tokens nor a challenge"))
	}
	r := Result{Challenge: out.ChallengeName, Session: out.Session, Parameters: out.ChallengeParameters,
		AvailableChallenges: out.AvailableChallenges, Username: username}
	if u := out.ChallengeParameters["USER_ID_FOR_SRP"]; u != "" {
		r.Username = u
	} else if u := out.ChallengeParameters["USERNAME"]; u != "" {
		r.Username = u
	}
	if r.Parameters == nil {
		r.Parameters = map[string]string{}
	}
	return r, nil
}

// Refresh redeems a refresh token with GetTokensFromRefreshToken.
// Tokens.RefreshToken is the rotated token, or "" when the client does
// not rotate. deviceKey may be "".
func (c *Client) Refresh(ctx context.Context, refreshToken, deviceKey string) (Tokens, error) {
	in := map[string]any{"ClientId": c.cfg.ClientID, "RefreshToken": refreshToken}
	if c.cfg.ClientSecret != "" {
		in["ClientSecret"] = c.cfg.ClientSecret
	}
	if deviceKey != "" {
		in["DeviceKey"] = deviceKey
	}
	var out struct {
		AuthenticationResult *authResult `json:"AuthenticationResult"`
	}
	if err := c.call(ctx, "GetTokensFromRefreshToken", in, &out); err != nil {
		return Tokens{}, err
	}
	if out.AuthenticationResult == nil || out.AuthenticationResult.AccessToken == "" {
		return Tokens{}, malformed("GetTokensFromRefreshToken", http.StatusOK, []byte("no AccessToken"))
	}
	return *out.AuthenticationResult.tokens(), nil
}

// RevokeToken revokes a refresh token (and the tokens issued with it)
// with the JSON API's RevokeToken.
func (c *Client) RevokeToken(ctx context.Context, refreshToken string) error {
	in := map[string]any{"ClientId": c.cfg.ClientID, "Token": refreshToken}
	if c.cfg.ClientSecret != "" {
		in["ClientSecret"] = c.cfg.ClientSecret
	}
	return c.call(ctx, "RevokeToken", in, nil)
}

// GetUser returns the user an access token belongs to.
func (c *Client) GetUser(ctx context.Context, accessToken string) (User, error) {
	var out struct {
		Username       string `json:"Username"`
		UserAttributes []struct {
			Name  string `json:"Name"`
			Value string `json:"Value"`
		} `json:"UserAttributes"`
	}
	if err := c.call(ctx, "GetUser", map[string]any{"AccessToken": accessToken}, &out); err != nil {
		return User{}, err
	}
	if out.Username == "" {
		return User{}, malformed("GetUser", http.StatusOK, []byte("no Username"))
	}
	u := User{Username: out.Username, Attributes: make(map[string]string, len(out.UserAttributes))}
	for _, a := range out.UserAttributes {
		u.Attributes[a.Name] = a.Value
	}
	return u, nil
}

// addSecretHash sets SECRET_HASH in params for a client with a secret.
func (c *Client) addSecretHash(params map[string]string, username string) {
	if c.cfg.ClientSecret != "" {
		params["SECRET_HASH"] = secretHash(c.cfg.ClientSecret, username, c.cfg.ClientID)
	}
}

// secretHash is Base64(HMAC-SHA256(key=secret, msg=username+clientID)).
func secretHash(secret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// errNoEndpoint: the JSON API was called on a Client configured for the
// OAuth endpoints only.
var errNoEndpoint = errors.New("issuer: no JSON API Endpoint configured")

// call posts one JSON 1.1 operation and decodes its answer into out (nil:
// the answer is ignored).
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	if c.endpoint == "" {
		return errNoEndpoint
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("issuer: %s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("issuer: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", jsonContentType)
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	status, resp, err := c.do(req, op)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return jsonError(op, status, resp)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp, out); err != nil {
		return malformed(op, status, resp)
	}
	return nil
}

// jsonError reads an AWS JSON error answer: {"__type": "...", "message":
// "..."}, where __type may carry a namespace ("ns#Type") and the message
// member is spelled message or Message.
func jsonError(op string, status int, body []byte) error {
	var eb struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	if json.Unmarshal(body, &eb) != nil || eb.Type == "" {
		return malformed(op, status, body)
	}
	if i := strings.LastIndexByte(eb.Type, '#'); i >= 0 {
		eb.Type = eb.Type[i+1:]
	}
	if eb.Message == "" {
		eb.Message = eb.Message2
	}
	return classify(&Error{Type: eb.Type, Message: eb.Message, Status: status})
}

// do sends req and returns the status and bounded body; transport
// failures wrap ErrUnavailable (and the context's error, when it ended).
func (c *Client) do(req *http.Request, op string) (int, []byte, error) {
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.DebugContext(req.Context(), "issuer call failed", "op", op, "err", err)
		return 0, nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	c.log.DebugContext(req.Context(), "issuer call", "op", op, "status", resp.StatusCode, "duration", time.Since(start))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", op, err)
	}
	return resp.StatusCode, body, nil
}
