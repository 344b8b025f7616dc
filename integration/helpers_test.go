// Package integration_test drives a real Cognate server, in process behind
// an httptest listener, with the real AWS SDK for Go v2 Cognito client (and
// raw HTTP where the SDK would refuse to send what a test needs), the way
// applications and Amplify reach it.
package integration_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/userpool"
)

const (
	region = "us-east-1"
	// password satisfies Cognito's default policy.
	password  = "Correct-Horse-9"
	password2 = "Battery-Staple-7"
	// targetPrefix is X-Amz-Target's operation prefix.
	targetPrefix = "AWSCognitoIdentityProviderService."
)

// env is one server on its own data directory with an SDK client that
// signs admin operations with the server's admin credentials. Unsigned
// operations (InitiateAuth, SignUp, …) go through the same client: the
// SDK knows they take no SigV4 and sends them unsigned.
type env struct {
	t     *testing.T
	srv   *server.Server
	url   string
	http  *http.Client
	api   *cip.Client
	pool  string // the default pool: email usernames, email verified by code
	pub   string // the default pool's public client
	ctx   context.Context
	creds server.AdminCredentials
	data  string // the server's data directory
}

// newEnv starts a server whose PublicURL is the listener's own URL, so
// the issuer in tokens and discovery is reachable by verifiers. It runs
// the default (development) configuration, in which loopback clients such
// as these tests are exempt from the per-address guess limit.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, server.Config{})
}

func newEnvWith(t *testing.T, cfg server.Config) *env {
	t.Helper()
	return newEnvAt(t, func(string) server.Config { return cfg })
}

// newEnvAt is newEnvWith for a configuration that needs the server's own
// URL (a config file naming it as an OIDC issuer, say).
func newEnvAt(t *testing.T, config func(url string) server.Config) *env {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	cfg := config(url)
	cfg.DataDir, cfg.PublicURL, cfg.Out = t.TempDir(), url, io.Discard
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	e := &env{
		t: t, srv: srv, url: url, http: ts.Client(), pool: srv.Pool.ID, pub: srv.Client.ClientID,
		ctx: t.Context(), creds: srv.Admin, data: cfg.DataDir,
	}
	e.api = e.sdk(srv.Admin.AccessKeyID, srv.Admin.SecretAccessKey)
	return e
}

// sdk returns an SDK client with the given static credentials. Retries
// are off so every error surfaces from the first attempt.
func (e *env) sdk(keyID, secret string) *cip.Client {
	opts := cip.Options{
		BaseEndpoint: aws.String(e.url),
		Region:       region,
		HTTPClient:   e.http,
		Retryer:      aws.NopRetryer{},
	}
	if keyID != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(keyID, secret, "")
	}
	return cip.New(opts)
}

// wantErr asserts that err is the Cognito exception code, delivered with
// a 4xx status, and returns it.
func wantErr(t testing.TB, err error, code string) smithy.APIError {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	if s := re.HTTPStatusCode(); s < 400 || s > 499 {
		t.Fatalf("%s came with status %d, want 4xx", code, s)
	}
	return ae
}

// wantMessage asserts the error is code with exactly msg.
func wantMessage(t testing.TB, err error, code, msg string) {
	t.Helper()
	if ae := wantErr(t, err, code); ae.ErrorMessage() != msg {
		t.Fatalf("%s message %q, want %q", code, ae.ErrorMessage(), msg)
	}
}

// must takes a call's results and, given the test, fails it on error:
// must(api.Op(ctx, in))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// outboxEntry is one message of GET /_dev/outbox.json.
type outboxEntry struct {
	PoolID      string `json:"pool_id"`
	Username    string `json:"username"`
	Destination string `json:"destination"`
	Kind        string `json:"kind"`
	Code        string `json:"code"`
	Status      string `json:"status"`
	Subject     string `json:"subject"`
	Message     string `json:"message"`
}

// outbox reads the development outbox, newest message first.
func (e *env) outbox() []outboxEntry {
	e.t.Helper()
	key, err := os.ReadFile(filepath.Join(e.data, "dev-outbox-key"))
	if err != nil {
		e.t.Fatalf("outbox key: %v", err)
	}
	req, err := http.NewRequestWithContext(e.ctx, "GET", e.url+"/_dev/outbox.json", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("X-Cognate-Outbox-Key", strings.TrimSpace(string(key)))
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("outbox: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("outbox: status %d", resp.StatusCode)
	}
	var out []outboxEntry
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatalf("outbox: %v", err)
	}
	return out
}

// code returns the newest code of kind sent to dest.
func (e *env) code(dest, kind string) string {
	e.t.Helper()
	for _, m := range e.outbox() {
		if strings.EqualFold(m.Destination, dest) && m.Kind == kind {
			return m.Code
		}
	}
	e.t.Fatalf("no %s message to %s in the outbox", kind, dest)
	return ""
}

// clientOpts tweak a CreateUserPoolClient request.
type clientOpts func(*cip.CreateUserPoolClientInput)

func rotation(enabled bool, grace int32) clientOpts {
	return func(in *cip.CreateUserPoolClientInput) {
		f := types.FeatureTypeDisabled
		if enabled {
			f = types.FeatureTypeEnabled
		}
		in.RefreshTokenRotation = &types.RefreshTokenRotationType{Feature: f, RetryGracePeriodSeconds: aws.Int32(grace)}
	}
}

func withSecret(in *cip.CreateUserPoolClientInput) { in.GenerateSecret = true }

// allFlows lets a client use every flow Cognate implements.
var allFlows = []types.ExplicitAuthFlowsType{
	types.ExplicitAuthFlowsTypeAllowUserSrpAuth, types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
	types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
}

// newClient creates an app client in pool and returns its id and secret.
func (e *env) newClient(pool string, opts ...clientOpts) (id, secret string) {
	e.t.Helper()
	in := &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(pool), ClientName: aws.String("test"), ExplicitAuthFlows: allFlows,
	}
	for _, o := range opts {
		o(in)
	}
	out := must(e.api.CreateUserPoolClient(e.ctx, in))(e.t)
	return aws.ToString(out.UserPoolClient.ClientId), aws.ToString(out.UserPoolClient.ClientSecret)
}

// signUp registers email through SignUp and confirms it with the code
// from the outbox; it returns the user's sub (its username in an email
// pool).
func (e *env) signUp(client, email string, attrs ...types.AttributeType) string {
	e.t.Helper()
	out := must(e.api.SignUp(e.ctx, &cip.SignUpInput{
		ClientId: aws.String(client), Username: aws.String(email), Password: aws.String(password),
		UserAttributes: attrs,
	}))(e.t)
	must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{
		ClientId: aws.String(client), Username: aws.String(email), ConfirmationCode: aws.String(e.code(email, "sign_up")),
	}))(e.t)
	return aws.ToString(out.UserSub)
}

// passwordAuth signs in with USER_PASSWORD_AUTH.
func (e *env) passwordAuth(client, user, pw string) (*types.AuthenticationResultType, error) {
	out, err := e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": pw},
	})
	if err != nil {
		return nil, err
	}
	if out.AuthenticationResult == nil {
		return nil, errors.New("challenge " + string(out.ChallengeName) + " instead of tokens")
	}
	return out.AuthenticationResult, nil
}

// signIn is passwordAuth that must succeed.
func (e *env) signIn(client, user, pw string) *types.AuthenticationResultType {
	e.t.Helper()
	return must(e.passwordAuth(client, user, pw))(e.t)
}

// srpStart is InitiateAuth USER_SRP_AUTH; it returns the SRP client and
// the PASSWORD_VERIFIER challenge parameters.
func (e *env) srpStart(pool, client, user string, extra map[string]string) (*srp.Client, map[string]string, error) {
	c, err := srp.NewClient(pool)
	if err != nil {
		e.t.Fatal(err)
	}
	params := map[string]string{"USERNAME": user, "SRP_A": c.AHex()}
	for k, v := range extra {
		params[k] = v
	}
	out, err := e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserSrpAuth, AuthParameters: params,
	})
	if err != nil {
		return nil, nil, err
	}
	if out.ChallengeName != types.ChallengeNameTypePasswordVerifier {
		e.t.Fatalf("challenge %q, want PASSWORD_VERIFIER", out.ChallengeName)
	}
	return c, out.ChallengeParameters, nil
}

// srpAnswer computes the PASSWORD_VERIFIER answer for a challenge.
func (e *env) srpAnswer(c *srp.Client, cp map[string]string, pw string) map[string]string {
	e.t.Helper()
	sig, ts, err := c.Respond(cp["USER_ID_FOR_SRP"], pw, cp["SALT"], cp["SRP_B"], cp["SECRET_BLOCK"], time.Now())
	if err != nil {
		e.t.Fatalf("srp respond: %v", err)
	}
	return map[string]string{
		"USERNAME":                    cp["USER_ID_FOR_SRP"],
		"PASSWORD_CLAIM_SECRET_BLOCK": cp["SECRET_BLOCK"],
		"TIMESTAMP":                   ts,
		"PASSWORD_CLAIM_SIGNATURE":    sig,
	}
}

func (e *env) respond(client string, challenge types.ChallengeNameType, session *string, resp map[string]string) (*cip.RespondToAuthChallengeOutput, error) {
	return e.api.RespondToAuthChallenge(e.ctx, &cip.RespondToAuthChallengeInput{
		ClientId: aws.String(client), ChallengeName: challenge, Session: session, ChallengeResponses: resp,
	})
}

// srpSignIn runs USER_SRP_AUTH to the end and returns the tokens.
func (e *env) srpSignIn(pool, client, user, pw string) *types.AuthenticationResultType {
	e.t.Helper()
	c, cp := mustSRP(e.t)(e.srpStart(pool, client, user, nil))
	out := must(e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(c, cp, pw)))(e.t)
	if out.AuthenticationResult == nil {
		e.t.Fatalf("SRP sign-in ended in challenge %q", out.ChallengeName)
	}
	return out.AuthenticationResult
}

func mustSRP(t testing.TB) func(*srp.Client, map[string]string, error) (*srp.Client, map[string]string) {
	return func(c *srp.Client, cp map[string]string, err error) (*srp.Client, map[string]string) {
		t.Helper()
		if err != nil {
			t.Fatalf("InitiateAuth USER_SRP_AUTH: %v", err)
		}
		return c, cp
	}
}

// getUser calls GetUser with an access token.
func (e *env) getUser(access *string) (*cip.GetUserOutput, error) {
	return e.api.GetUser(e.ctx, &cip.GetUserInput{AccessToken: access})
}

func (e *env) refresh(client, secret string, rt *string) (*types.AuthenticationResultType, error) {
	in := &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(client), RefreshToken: rt}
	if secret != "" {
		in.ClientSecret = aws.String(secret)
	}
	out, err := e.api.GetTokensFromRefreshToken(e.ctx, in)
	if err != nil {
		return nil, err
	}
	return out.AuthenticationResult, nil
}

func (e *env) adminGet(pool, user string) (*cip.AdminGetUserOutput, error) {
	return e.api.AdminGetUser(e.ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(pool), Username: aws.String(user)})
}

func attr(list []types.AttributeType, name string) (string, bool) {
	for _, a := range list {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value), true
		}
	}
	return "", false
}

func attrT(name, value string) types.AttributeType {
	return types.AttributeType{Name: aws.String(name), Value: aws.String(value)}
}

// countUsers counts a pool's users through ListUsers.
func (e *env) countUsers(pool string) int {
	e.t.Helper()
	n := 0
	p := cip.NewListUsersPaginator(e.api, &cip.ListUsersInput{UserPoolId: aws.String(pool)})
	for p.HasMorePages() {
		n += len(must(p.NextPage(e.ctx))(e.t).Users)
	}
	return n
}

// claims decodes a JWT payload without verifying it (verification is
// the tests' business, with real verifiers).
func claims(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	raw, err := b64url.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("token payload: %v", err)
	}
	m := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("token payload: %v", err)
	}
	return m
}

// rawResult is a protocol-level answer.
type rawResult struct {
	status int
	typ    string // __type
	msg    string
	header http.Header
	body   []byte
}

// raw posts body to the JSON API with the given target (no prefix added;
// "" sends no X-Amz-Target), unsigned, with extra headers as name, value
// pairs.
func (e *env) raw(target string, body []byte, headers ...string) rawResult {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.url+"/", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return e.do(req)
}

// proxiedFrom is e with its requests sent from another loopback address,
// as a reverse proxy on this host would send them.
func proxiedFrom(e *env, ip string) *env {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	p := *e
	p.http = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	return &p
}

// signedRaw posts body to an admin operation, SigV4-signed with the
// server's admin credentials, bypassing the SDK's input validation.
func (e *env) signedRaw(op string, body []byte) rawResult {
	e.t.Helper()
	return e.signedRawWith(op, body, time.Now(), nil)
}

// signedRawWith is signedRaw signed at a given time, with tamper (if not
// nil) applied to the request after signing.
func (e *env) signedRawWith(op string, body []byte, at time.Time, tamper func(*http.Request)) rawResult {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.url+"/", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: e.creds.AccessKeyID, SecretAccessKey: e.creds.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(e.ctx, creds, req, hex.EncodeToString(sum[:]), "cognito-idp", region, at); err != nil {
		e.t.Fatal(err)
	}
	if tamper != nil {
		tamper(req)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) rawResult {
	e.t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s: %v", req.Header.Get("X-Amz-Target"), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := rawResult{status: resp.StatusCode, header: resp.Header, body: body}
	var eb struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &eb) == nil {
		r.typ, r.msg = eb.Type, eb.Message
	}
	return r
}

// wantRaw asserts a protocol-level failure: a 4xx (never 5xx) with the
// given __type, echoed in x-amzn-ErrorType, as an AWS JSON body.
func wantRaw(t testing.TB, r rawResult, status int, typ string) {
	t.Helper()
	if r.status != status || r.typ != typ {
		t.Fatalf("got %d %s (%s), want %d %s; body %s", r.status, r.typ, r.msg, status, typ, r.body)
	}
	if r.status < 400 || r.status > 499 {
		t.Fatalf("status %d is not a client error", r.status)
	}
	if got := r.header.Get("x-amzn-ErrorType"); got != typ {
		t.Fatalf("x-amzn-ErrorType %q, want %q", got, typ)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Fatalf("Content-Type %q", ct)
	}
	if r.header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("no x-amzn-RequestId")
	}
}

var b64url = base64.RawURLEncoding

// secretHash is SECRET_HASH for a confidential client.
func secretHash(secret, user, client string) string { return userpool.SecretHash(secret, user, client) }

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
