// Package oidc is the federation.Kind of OpenID Connect providers and of
// the social providers Cognito offers as presets over OAuth 2.0 / OIDC
// (Google, Facebook, Login with Amazon, Sign in with Apple).
//
// Towards the provider a sign-in uses the authorization code flow with
// PKCE (S256) and, where there is an id token, a nonce; the id token is
// verified with go-oidc (signature against the provider's JWKS,
// audience, issuer, expiry) and its nonce compared in constant time. The
// presets' endpoints are Cognito's defaults, and every one can be given
// explicitly in the provider's details (authorize_url, token_url,
// attributes_url, jwks_uri, oidc_issuer), which is how tests point a
// preset at a local provider.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cognate-auth/cognate/federation"
)

// Types are the provider types this Kind serves.
var Types = []string{
	federation.TypeOIDC, federation.TypeGoogle, federation.TypeFacebook,
	federation.TypeLoginWithAmazon, federation.TypeSignInWithApple,
}

// maxBody bounds what is read from a provider (token and attribute
// answers, which are small).
const maxBody = 1 << 20

// Options configure the Kind.
type Options struct {
	// Client reaches the providers; nil means a client with a 10 s
	// timeout.
	Client *http.Client
	Logger *slog.Logger
}

// Kind returns the federation.Kind of OIDC and the social presets.
func Kind(opts Options) federation.Kind {
	k := &kind{client: opts.Client, log: opts.Logger}
	if k.client == nil {
		k.client = &http.Client{Timeout: 10 * time.Second}
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	return k
}

type kind struct {
	client *http.Client
	log    *slog.Logger
}

// presets are Cognito's endpoints of the social providers.
var presets = map[string]map[string]string{
	federation.TypeGoogle: {
		"oidc_issuer": "https://accounts.google.com", "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
		"token_url": "https://www.googleapis.com/oauth2/v4/token", "attributes_url": "https://people.googleapis.com/v1/people/me?personFields=",
		"attributes_url_add_attributes": "true",
	},
	federation.TypeFacebook: {
		"authorize_url": "https://www.facebook.com/v17.0/dialog/oauth", "token_url": "https://graph.facebook.com/v17.0/oauth/access_token",
		"attributes_url": "https://graph.facebook.com/v17.0/me?fields=", "attributes_url_add_attributes": "true",
	},
	federation.TypeLoginWithAmazon: {
		"authorize_url": "https://www.amazon.com/ap/oa", "token_url": "https://api.amazon.com/auth/o2/token",
		"attributes_url": "https://api.amazon.com/user/profile", "attributes_url_add_attributes": "false",
	},
	federation.TypeSignInWithApple: {
		"oidc_issuer": "https://appleid.apple.com", "authorize_url": "https://appleid.apple.com/auth/authorize",
		"token_url": "https://appleid.apple.com/auth/token",
	},
}

// subjectAttribute is where an OAuth-only provider (no id token) puts the
// user's id in its attributes answer.
var subjectAttribute = map[string]string{
	federation.TypeFacebook: "id", federation.TypeLoginWithAmazon: "user_id",
}

// Check fills a preset's endpoints and, for OIDC, fetches the issuer's
// discovery document unless every endpoint is given.
func (k *kind) Check(ctx context.Context, p federation.Provider) (map[string]string, error) {
	d := make(map[string]string, len(p.Details)+5)
	for key, v := range presets[p.Type] {
		d[key] = v
	}
	for key, v := range p.Details {
		d[key] = v
	}
	for _, key := range []string{"oidc_issuer", "authorize_url", "token_url", "attributes_url", "jwks_uri"} {
		if v := d[key]; v != "" {
			if err := checkURL(v); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", federation.ErrConfig, key, err)
			}
		}
	}
	if p.Type == federation.TypeSignInWithApple {
		if _, err := parseAppleKey(d["private_key"]); err != nil {
			return nil, fmt.Errorf("%w: private_key: %v", federation.ErrConfig, err)
		}
	}
	if p.Type != federation.TypeOIDC || (d["authorize_url"] != "" && d["token_url"] != "" && d["jwks_uri"] != "") {
		return d, nil
	}
	if _, err := gooidc.NewProvider(gooidc.ClientContext(ctx, k.client), d["oidc_issuer"]); err != nil {
		return nil, fmt.Errorf("%w: unable to read the discovery document of %s: %v", federation.ErrConfig, d["oidc_issuer"], err)
	}
	return d, nil
}

// checkURL accepts https URLs, and http ones on the loopback interface
// (a provider run on the same machine, in development and tests).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return errors.New("must be an https URL")
}

// New builds a provider's Upstream: its endpoints from the details, the
// rest from discovery.
func (k *kind) New(ctx context.Context, p federation.Provider) (federation.Upstream, error) {
	d, err := k.Check(ctx, p)
	if err != nil {
		return nil, err
	}
	u := &upstream{kind: k, typ: p.Type, details: d, scopes: strings.Fields(d["authorize_scopes"])}
	if p.Type == federation.TypeSignInWithApple {
		if u.appleKey, err = parseAppleKey(d["private_key"]); err != nil {
			return nil, fmt.Errorf("%w: private_key: %v", federation.ErrConfig, err)
		}
	}
	cctx := gooidc.ClientContext(context.WithoutCancel(ctx), k.client)
	issuer := d["oidc_issuer"]
	var prov *gooidc.Provider
	switch {
	case issuer == "":
		// An OAuth-only preset: no id token to verify.
	case d["authorize_url"] != "" && d["token_url"] != "" && d["jwks_uri"] != "":
		prov = (&gooidc.ProviderConfig{
			IssuerURL: issuer, AuthURL: d["authorize_url"], TokenURL: d["token_url"],
			UserInfoURL: d["attributes_url"], JWKSURL: d["jwks_uri"],
		}).NewProvider(cctx)
	default:
		if prov, err = gooidc.NewProvider(cctx, issuer); err != nil {
			return nil, fmt.Errorf("%w: discovery of %s: %v", federation.ErrUnavailable, issuer, err)
		}
		var claims struct {
			UserInfo string `json:"userinfo_endpoint"`
		}
		if err := prov.Claims(&claims); err == nil && d["attributes_url"] == "" {
			d["attributes_url"] = claims.UserInfo
		}
	}
	u.endpoint = oauth2.Endpoint{AuthURL: d["authorize_url"], TokenURL: d["token_url"], AuthStyle: oauth2.AuthStyleInParams}
	if prov != nil {
		if u.endpoint.AuthURL == "" || u.endpoint.TokenURL == "" {
			u.endpoint.AuthURL, u.endpoint.TokenURL = prov.Endpoint().AuthURL, prov.Endpoint().TokenURL
		}
		u.verifier = prov.Verifier(&gooidc.Config{ClientID: d["client_id"]})
	}
	return u, nil
}

type upstream struct {
	kind     *kind
	typ      string
	details  map[string]string
	scopes   []string
	endpoint oauth2.Endpoint
	verifier *gooidc.IDTokenVerifier
	appleKey appleKey
}

// binding is what a sign-in keeps sealed in the browser until the
// callback: the nonce the id token must carry and the PKCE verifier.
type binding struct {
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
}

func (u *upstream) config(callback string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: u.details["client_id"], ClientSecret: u.details["client_secret"],
		Endpoint: u.endpoint, RedirectURL: callback, Scopes: u.scopes,
	}
}

// Begin implements federation.Upstream.
func (u *upstream) Begin(_ context.Context, req federation.Request) (federation.Start, error) {
	b := binding{Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(b.Verifier)}
	if u.verifier != nil {
		opts = append(opts, gooidc.Nonce(b.Nonce))
	}
	if u.typ == federation.TypeSignInWithApple && len(u.scopes) > 0 {
		// Apple sends the name and email only with a form post.
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", "form_post"))
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return federation.Start{}, err
	}
	return federation.Start{
		URL: u.config(req.CallbackURL).AuthCodeURL(req.State, opts...), Binding: string(raw),
		FormPost: u.typ == federation.TypeSignInWithApple && len(u.scopes) > 0,
	}, nil
}

// Finish implements federation.Upstream.
func (u *upstream) Finish(ctx context.Context, req federation.Request, rawBinding string, params url.Values) (federation.Identity, error) {
	if e := params.Get("error"); e != "" {
		return federation.Identity{}, fmt.Errorf("%w: %.64s: %.256s", federation.ErrDenied, e, params.Get("error_description"))
	}
	var b binding
	if err := json.Unmarshal([]byte(rawBinding), &b); err != nil || b.Verifier == "" || b.Nonce == "" {
		return federation.Identity{}, fmt.Errorf("%w: no sign-in to finish", federation.ErrInvalidResponse)
	}
	code := params.Get("code")
	if code == "" || len(code) > 4096 {
		return federation.Identity{}, fmt.Errorf("%w: no authorization code", federation.ErrInvalidResponse)
	}
	cfg := u.config(req.CallbackURL)
	if u.typ == federation.TypeSignInWithApple {
		secret, err := u.appleKey.clientSecret(u.details, time.Now())
		if err != nil {
			return federation.Identity{}, fmt.Errorf("%w: apple client secret: %v", federation.ErrConfig, err)
		}
		cfg.ClientSecret = secret
	}
	cctx := context.WithValue(ctx, oauth2.HTTPClient, u.kind.client)
	tok, err := cfg.Exchange(cctx, code, oauth2.VerifierOption(b.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return federation.Identity{}, fmt.Errorf("%w: token exchange refused: %s", federation.ErrInvalidResponse, re.ErrorCode)
		}
		return federation.Identity{}, fmt.Errorf("%w: token exchange: %v", federation.ErrUnavailable, err)
	}
	id := federation.Identity{Attributes: map[string]string{}}
	if u.verifier != nil {
		if err := u.verifyIDToken(cctx, tok, b.Nonce, &id); err != nil {
			return federation.Identity{}, err
		}
	}
	if attrURL := u.details["attributes_url"]; attrURL != "" && (u.verifier == nil || u.typ == federation.TypeOIDC) {
		if err := u.attributes(cctx, attrURL, tok.AccessToken, &id); err != nil {
			return federation.Identity{}, err
		}
	}
	if id.Subject == "" {
		return federation.Identity{}, fmt.Errorf("%w: the provider named no subject", federation.ErrInvalidResponse)
	}
	if u.typ == federation.TypeSignInWithApple {
		addAppleUser(params.Get("user"), id.Attributes)
	}
	id.EmailVerified = id.Attributes["email_verified"] == "true"
	return id, nil
}

// verifyIDToken checks the token answer's id token — signature, audience,
// issuer, expiry by go-oidc, the nonce here — and takes its claims.
func (u *upstream) verifyIDToken(ctx context.Context, tok *oauth2.Token, nonce string, id *federation.Identity) error {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fmt.Errorf("%w: no id token", federation.ErrInvalidResponse)
	}
	idt, err := u.verifier.Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("%w: id token: %v", federation.ErrInvalidResponse, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return fmt.Errorf("%w: id token: nonce does not match the sign-in", federation.ErrInvalidResponse)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return fmt.Errorf("%w: id token claims: %v", federation.ErrInvalidResponse, err)
	}
	flatten(claims, id.Attributes)
	id.Subject, id.Issuer = idt.Subject, idt.Issuer
	return nil
}

// attributes reads the provider's attributes endpoint (OIDC userinfo, a
// social profile API) with the access token, by the configured method.
// Its subject must be the id token's, when there was one.
func (u *upstream) attributes(ctx context.Context, endpoint, accessToken string, id *federation.Identity) error {
	method := http.MethodGet
	if u.details["attributes_request_method"] == http.MethodPost {
		method = http.MethodPost
	}
	if u.details["attributes_url_add_attributes"] == "true" {
		endpoint += attributeFields(u.typ)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, nil)
	if err != nil {
		return fmt.Errorf("%w: attributes_url: %v", federation.ErrConfig, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := u.kind.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: attributes: %v", federation.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%w: attributes: %v", federation.ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: attributes endpoint answered %d", federation.ErrInvalidResponse, resp.StatusCode)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		return fmt.Errorf("%w: attributes: %v", federation.ErrInvalidResponse, err)
	}
	got := map[string]string{}
	flatten(claims, got)
	subject := got["sub"]
	if a := subjectAttribute[u.typ]; a != "" {
		subject = got[a]
	}
	if id.Subject != "" && subject != "" && subject != id.Subject {
		return fmt.Errorf("%w: the attributes are of another subject", federation.ErrInvalidResponse)
	}
	if id.Subject == "" {
		id.Subject = subject
	}
	for k, v := range got {
		if _, ok := id.Attributes[k]; !ok {
			id.Attributes[k] = v
		}
	}
	return nil
}

// attributeFields is what Cognito appends to a social profile URL that
// takes the fields asked for.
func attributeFields(typ string) string {
	switch typ {
	case federation.TypeFacebook:
		return "id,email,name,first_name,last_name,picture"
	case federation.TypeGoogle:
		return "names,emailAddresses,photos"
	}
	return ""
}

// flatten turns claims into attribute strings: strings as they are,
// booleans and numbers as text, anything else as its JSON.
func flatten(claims map[string]any, out map[string]string) {
	for k, v := range claims {
		switch x := v.(type) {
		case string:
			out[k] = x
		case bool:
			if x {
				out[k] = "true"
			} else {
				out[k] = "false"
			}
		case nil:
		default:
			b, err := json.Marshal(x)
			if err == nil {
				out[k] = strings.TrimSpace(string(b))
			}
		}
	}
}

// random is 32 random bytes, base64url.
func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
