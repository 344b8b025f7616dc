package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/cognate-auth/cognate/internal/atomicfile"
	"github.com/cognate-auth/cognate/internal/redact"
	"github.com/cognate-auth/cognate/storage"
)

// amplifyOutputs is the auth part of Amplify Gen 2's amplify_outputs.json.
type amplifyOutputs struct {
	Version string         `json:"version"`
	Auth    outputsAuth    `json:"auth"`
	Custom  *outputsCustom `json:"custom,omitempty"`
}

// outputsCustom carries the events API the way Amplify's Events docs put
// it in amplify_outputs.json (custom.events), and what Amplify's outputs
// parser drops but a server needs to use a pool outside AWS (custom.cognate).
type outputsCustom struct {
	Events  *outputsEvents `json:"events,omitempty"`
	Cognate outputsCognate `json:"cognate"`
}

// outputsCognate tells @cognate-auth/amplify-nextjs (or any backend) that
// the pool is Cognate's: Amplify's userPoolEndpoint, and the issuer its
// tokens carry, whose key set is <issuer>/.well-known/jwks.json. Without
// it a verifier derives Amazon Cognito's issuer from the pool id.
type outputsCognate struct {
	UserPoolEndpoint string `json:"user_pool_endpoint"`
	Issuer           string `json:"issuer"`
}

type outputsEvents struct {
	URL                      string `json:"url"`
	AWSRegion                string `json:"aws_region"`
	DefaultAuthorizationType string `json:"default_authorization_type"`
	APIKey                   string `json:"api_key,omitempty"`
}

type outputsAuth struct {
	AWSRegion                        string         `json:"aws_region"`
	UserPoolID                       string         `json:"user_pool_id"`
	UserPoolClientID                 string         `json:"user_pool_client_id"`
	UsernameAttributes               []string       `json:"username_attributes"`
	StandardRequiredAttributes       []string       `json:"standard_required_attributes"`
	UserVerificationTypes            []string       `json:"user_verification_types"`
	UnauthenticatedIdentitiesEnabled bool           `json:"unauthenticated_identities_enabled"`
	PasswordPolicy                   passwordPolicy `json:"password_policy"`
	MFAConfiguration                 string         `json:"mfa_configuration"`
	MFAMethods                       []string       `json:"mfa_methods"`
	OAuth                            *outputsOAuth  `json:"oauth,omitempty"`
	Passwordless                     *passwordless  `json:"passwordless,omitempty"`
}

// outputsOAuth is the managed login for Amplify's signInWithRedirect and
// adapter-nextjs's createAuthRouteHandlers, for a client allowed the code
// flow. Amplify reaches https://<domain>/oauth2/… (HTTPS only), so it is
// given only with an HTTPS listener or public URL.
type outputsOAuth struct {
	IdentityProviders  []string `json:"identity_providers"`
	Domain             string   `json:"domain"`
	Scopes             []string `json:"scopes"`
	RedirectSignInURI  []string `json:"redirect_sign_in_uri"`
	RedirectSignOutURI []string `json:"redirect_sign_out_uri"`
	ResponseType       string   `json:"response_type"`
}

// amplifyProviders are Amplify outputs' names of Cognito's social
// providers; other providers (SAML, OIDC) have none.
var amplifyProviders = map[string]string{
	"Google": "GOOGLE", "Facebook": "FACEBOOK", "LoginWithAmazon": "LOGIN_WITH_AMAZON", "SignInWithApple": "SIGN_IN_WITH_APPLE",
}

// oauthFor is auth.oauth for client c with the managed login at
// httpsBase (https://host[:port]), or nil when c has no code flow or
// there is no HTTPS base.
func oauthFor(c storage.Client, httpsBase string) *outputsOAuth {
	u, err := url.Parse(httpsBase)
	cs := c.Settings
	if err != nil || u.Scheme != "https" || !cs.AllowedOAuthFlowsUserPoolClient ||
		!contains(cs.AllowedOAuthFlows, "code") || len(cs.CallbackURLs) == 0 {
		return nil
	}
	idps := []string{}
	for _, p := range cs.SupportedIdentityProviders {
		if name, ok := amplifyProviders[p]; ok {
			idps = append(idps, name)
		}
	}
	return &outputsOAuth{
		IdentityProviders: idps, Domain: u.Host, Scopes: nonNil(cs.AllowedOAuthScopes),
		RedirectSignInURI: cs.CallbackURLs, RedirectSignOutURI: nonNil(cs.LogoutURLs), ResponseType: "code",
	}
}

type passwordPolicy struct {
	MinLength        int  `json:"min_length"`
	RequireLowercase bool `json:"require_lowercase"`
	RequireNumbers   bool `json:"require_numbers"`
	RequireSymbols   bool `json:"require_symbols"`
	RequireUppercase bool `json:"require_uppercase"`
}

func outputsFor(p storage.Pool, c storage.Client) amplifyOutputs {
	region, _, _ := strings.Cut(p.ID, "_")
	pp := p.Settings.PasswordPolicy
	var required []string
	for _, a := range p.Settings.Schema {
		if a.Required && !strings.HasPrefix(a.Name, "custom:") {
			required = append(required, a.Name)
		}
	}
	if contains(p.Settings.UsernameAttributes, "email") && !contains(required, "email") {
		required = append(required, "email")
	}
	return amplifyOutputs{
		Version: "1.4",
		Auth: outputsAuth{
			AWSRegion: region, UserPoolID: p.ID, UserPoolClientID: c.ClientID,
			UsernameAttributes:         nonNil(p.Settings.UsernameAttributes),
			StandardRequiredAttributes: nonNil(required),
			UserVerificationTypes:      nonNil(p.Settings.AutoVerifiedAttributes),
			PasswordPolicy: passwordPolicy{
				MinLength: pp.MinimumLength, RequireLowercase: pp.RequireLowercase, RequireNumbers: pp.RequireNumbers,
				RequireSymbols: pp.RequireSymbols, RequireUppercase: pp.RequireUppercase,
			},
			MFAConfiguration: outputsMFA[p.Settings.MFAConfiguration],
			MFAMethods:       mfaMethods(p.Settings),
			Passwordless:     passwordlessFor(p),
		},
	}
}

// outputsMFA maps a pool's MfaConfiguration to Amplify outputs' names.
var outputsMFA = map[string]string{"": "NONE", "OFF": "NONE", "ON": "REQUIRED", "OPTIONAL": "OPTIONAL"}

// mfaMethods are the factors Amplify outputs can name (SMS, TOTP).
func mfaMethods(set storage.PoolSettings) []string {
	out := []string{}
	if set.MFAConfiguration == "" || set.MFAConfiguration == "OFF" {
		return out
	}
	if set.SMSMFAEnabled {
		out = append(out, "SMS")
	}
	if set.SoftwareTokenMFAEnabled {
		out = append(out, "TOTP")
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// writeOutputs writes <data>/amplify_outputs.json for pool p and client c:
// ev is the events API (nil: none), issuer the pool's token issuer under
// publicURL. The managed login (auth.oauth) is where the events API is
// when that is HTTPS: the public URL, else the local HTTPS listener.
func writeOutputs(dataDir, publicURL, issuer string, p storage.Pool, c storage.Client, ev *outputsEvents) error {
	out := outputsFor(p, c)
	if ev != nil {
		out.Auth.OAuth = oauthFor(c, strings.TrimSuffix(ev.URL, "/event"))
	}
	out.Custom = &outputsCustom{Events: ev, Cognate: outputsCognate{
		UserPoolEndpoint: strings.TrimRight(publicURL, "/"), Issuer: issuer,
	}}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dataDir, "amplify_outputs.json"), append(b, '\n'), 0o644)
}

// banner is what the start-up banner reports.
type banner struct {
	pool          storage.Pool
	client        storage.Client
	creds         AdminCredentials
	credsFromFile bool
	tls           *tlsSetup      // nil: HTTPS off
	events        *outputsEvents // the events API as outputs name it
	demoURL       string         // "": no demo
	outboxKey     string         // "": no outbox
}

// printBanner tells a developer everything needed to point Amplify here,
// and, with the local CA, how to trust it.
func printBanner(w io.Writer, cfg *Config, b banner) {
	p, c, ts := b.pool, b.client, b.tls
	fmt.Fprintf(w, "Cognate user pool listening on http://%s (public URL %s)\n\n", cfg.Addr, cfg.PublicURL)
	fmt.Fprintf(w, "  User pool id:   %s\n  App client id:  %s (%s)\n  Issuer:         %s/%s\n", p.ID, c.ClientID, c.Name, cfg.PublicURL, p.ID)
	fmt.Fprintf(w, "  Outputs file:   %s\n", filepath.Join(cfg.DataDir, "amplify_outputs.json"))
	fmt.Fprintf(w, "  Storage:        %s\n", storageLabel(cfg))
	fmt.Fprintf(w, "  Broker:         %s\n", brokerLabel(cfg.Broker))
	if b.credsFromFile {
		fmt.Fprintf(w, "  Admin keys:     %s (access key id %s)\n", filepath.Join(cfg.DataDir, "admin-credentials.json"), b.creds.AccessKeyID)
	}
	if cfg.MetricsAddr != MetricsOff {
		fmt.Fprintf(w, "  Metrics:        http://%s/metrics\n", cfg.MetricsAddr)
	}
	if b.outboxKey != "" {
		base := cfg.PublicURL
		if u, err := url.Parse(base); err != nil || !localHost(u.Host) {
			base = "http://" + cfg.Addr
		}
		fmt.Fprintf(w, "  Dev outbox:     %s/_dev/outbox?key=%s (from this machine only)\n", base, b.outboxKey)
	}
	switch {
	case ts == nil:
	case ts.caFile == "":
		fmt.Fprintf(w, "  HTTPS:          https://%s (certificate %s)\n", cfg.TLSAddr, ts.certFile)
	default:
		fmt.Fprintf(w, "  HTTPS:          https://%s (certificate from the local CA below)\n", cfg.TLSAddr)
	}
	ev := b.events
	fmt.Fprintf(w, "  Events API:     %s (WebSocket %s/realtime)\n", ev.URL, websocketURL(ev.URL))
	if ev.APIKey != "" {
		fmt.Fprintf(w, "  Events key:     %s (development key, also in %s)\n", ev.APIKey, filepath.Join(cfg.DataDir, devKeyFile))
	}
	if b.demoURL != "" {
		fmt.Fprintf(w, "  Demo app:       %s\n", b.demoURL)
	}
	events := ""
	if ev.APIKey != "" {
		events = fmt.Sprintf(`
    API: {
      Events: {
        endpoint: '%s',
        region: '%s',
        defaultAuthMode: 'apiKey',
        apiKey: '%s',
      },
    },`, ev.URL, ev.AWSRegion, ev.APIKey)
	}
	fmt.Fprintf(w, `
Configure Amplify (aws-amplify v6):

  import { Amplify } from 'aws-amplify';

  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: '%s',
        userPoolClientId: '%s',
        userPoolEndpoint: '%s',
        loginWith: { email: true },
      },
    },%s
  });

`, p.ID, c.ClientID, cfg.PublicURL, events)
	if ts != nil && ts.caFile != "" {
		printTrust(w, ts.caFile)
	}
}

// storageLabel says which storage the node uses, without any password.
func storageLabel(cfg *Config) string {
	if sqliteStorage(cfg.Storage) {
		return "SQLite in " + cfg.DataDir + " (this node only)"
	}
	return redact.URL(cfg.Storage) + " (shared by every node started with it)"
}

// brokerLabel says how events reach other nodes, without any password.
func brokerLabel(broker string) string {
	if broker == "" || broker == BrokerMemory {
		return "in-process (events reach this node's subscribers only)"
	}
	return redact.URL(broker) + " (shared by every node started with it)"
}

// printTrust tells how to trust the local CA that signs the HTTPS
// certificate.
func printTrust(w io.Writer, ca string) {
	fmt.Fprintf(w, `HTTPS uses a certificate from Cognate's local CA: %[1]s
It can sign only for localhost, 127.0.0.1 and ::1 (name constraints). Trust it once:

  Node.js:        NODE_EXTRA_CA_CERTS=%[1]s node app.js
  Debian/Ubuntu:  sudo cp %[1]s /usr/local/share/ca-certificates/cognate.crt && sudo update-ca-certificates
  macOS:          sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %[1]s
  Browsers:       import ca.pem as a certificate authority (Chrome: Settings > Privacy and security >
                  Security > Manage certificates; Firefox: Settings > Privacy & Security > View Certificates >
                  Authorities > Import), rather than skipping certificate errors.

`, ca)
}
