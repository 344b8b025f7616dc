package events

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Authorization types (AppSync's authType values this server supports).
const (
	AuthAPIKey    = "API_KEY"
	AuthUserPools = "AMAZON_COGNITO_USER_POOLS"
	AuthOIDC      = "OPENID_CONNECT"
)

// Operation is what a channel rule restricts.
type Operation string

// Operations.
const (
	OpConnect   Operation = "CONNECT"
	OpPublish   Operation = "PUBLISH"
	OpSubscribe Operation = "SUBSCRIBE"
)

// Defaults and limits of Config.
const (
	DefaultKeepAlive         = 60 * time.Second
	DefaultConnectionTimeout = 300 * time.Second
	DefaultMaxSubscriptions  = 200
	DefaultSendQueueLength   = 1024
	DefaultSendQueueBytes    = 8 << 20
	// DefaultMaxConnections bounds what idle connections cost: about
	// 15 KB of memory each (bench/eventsload, scenario d), 150 MB in all,
	// and the load the benchmarks were run at.
	DefaultMaxConnections = 10000
	// DefaultMaxConnectionsPerAddress lets 100 addresses, no fewer, fill
	// the server; Amplify opens one socket per app, so it is also room for
	// an office of browser tabs behind one NAT address.
	DefaultMaxConnectionsPerAddress = 100
	// DefaultMaxConnectionsPerAPIKey keeps a leaked key (the development
	// key is public by design) from taking more than a tenth of the slots.
	DefaultMaxConnectionsPerAPIKey = 1000
	// Unlimited as a connection cap of Config lifts the cap.
	Unlimited = -1
	// MaxEvents is the most events one publish carries.
	MaxEvents = 5
	// MaxEventBytes is the largest event (its JSON text, in bytes).
	MaxEventBytes = 240 << 10
)

// Config is the events API's configuration, JSON-decodable with AppSync's
// eventConfig member names where they exist. The zero value is a working
// default: one "default" namespace, and every operation allowed with an
// API key (when Options.APIKeys is set) or a token of this server's user
// pools (when Options.UserPool is set).
type Config struct {
	AuthProviders             []AuthProvider `json:"authProviders,omitempty"`
	ConnectionAuthModes       []AuthMode     `json:"connectionAuthModes,omitempty"`
	DefaultPublishAuthModes   []AuthMode     `json:"defaultPublishAuthModes,omitempty"`
	DefaultSubscribeAuthModes []AuthMode     `json:"defaultSubscribeAuthModes,omitempty"`
	// Namespaces are the channel namespaces; empty means one "default".
	Namespaces []Namespace `json:"namespaces,omitempty"`

	// KeepAlive is the interval of "ka" messages; 0 means 60 s.
	KeepAlive Duration `json:"keepAlive,omitempty"`
	// ConnectionTimeout is sent as connection_ack's connectionTimeoutMs
	// (the client gives up after that long without ka or data), and a
	// connection that sends neither connection_init nor any operation
	// within it is closed. 0 means 300 s.
	ConnectionTimeout Duration `json:"connectionTimeout,omitempty"`
	// MaxSubscriptionsPerConnection caps one connection's subscriptions;
	// 0 means 200.
	MaxSubscriptionsPerConnection int `json:"maxSubscriptionsPerConnection,omitempty"`
	// MaxConnections caps the connections open at once, handshakes still
	// being authorized included; MaxConnectionsPerAddress caps those of
	// one client address (as Hub.Connect is told it; an empty address is
	// not counted), and MaxConnectionsPerAPIKey those authorized by one
	// API key. 0 means the default (10,000, 100, 1,000), Unlimited (-1,
	// or any negative value) no cap. A connection over a cap gets a
	// LimitExceededException connection_error.
	MaxConnections           int `json:"maxConnections,omitempty"`
	MaxConnectionsPerAddress int `json:"maxConnectionsPerAddress,omitempty"`
	MaxConnectionsPerAPIKey  int `json:"maxConnectionsPerApiKey,omitempty"`
	// SendQueueLength and SendQueueBytes bound the frames waiting to be
	// written to one connection (0 means 1024 frames, 8 MiB); a connection
	// whose events fall further behind is closed as a slow consumer. The
	// replies to a connection's own messages do not count towards that:
	// once half the queue is taken, its next message waits until the
	// queue drains, so a client that pipelines requests is slowed down,
	// not closed.
	SendQueueLength int `json:"sendQueueLength,omitempty"`
	SendQueueBytes  int `json:"sendQueueBytes,omitempty"`
}

// AuthMode names an authorization type allowed for an operation.
type AuthMode struct {
	AuthType string `json:"authType"`
}

// AuthProvider configures one authorization type. AMAZON_COGNITO_USER_POOLS
// without CognitoConfig means this server's own pools (Options.UserPool);
// with CognitoConfig it means that pool, verified by Options.Verifier
// (or by Options.UserPool when the pool is served here). OPENID_CONNECT
// needs OpenIDConnectConfig and Options.Verifier.
type AuthProvider struct {
	AuthType            string               `json:"authType"`
	CognitoConfig       *CognitoConfig       `json:"cognitoConfig,omitempty"`
	OpenIDConnectConfig *OpenIDConnectConfig `json:"openIDConnectConfig,omitempty"`
}

// CognitoConfig names a Cognito (or Cognate) user pool.
type CognitoConfig struct {
	UserPoolID string `json:"userPoolId"`
	AWSRegion  string `json:"awsRegion,omitempty"`
	// AppIDClientRegex, when set, must match the whole client_id (access
	// token) or aud (id token).
	AppIDClientRegex string `json:"appIdClientRegex,omitempty"`
}

// OpenIDConnectConfig names an OIDC issuer.
type OpenIDConnectConfig struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId,omitempty"`
}

// Namespace is a channel namespace. Empty auth mode lists inherit the
// Config defaults.
type Namespace struct {
	Name               string     `json:"name"`
	PublishAuthModes   []AuthMode `json:"publishAuthModes,omitempty"`
	SubscribeAuthModes []AuthMode `json:"subscribeAuthModes,omitempty"`
	// ChannelRules restrict which channels of the namespace an operation
	// may touch (beyond AppSync). An operation that some rule names is
	// allowed only on channels one of those rules matches; an operation no
	// rule names is not restricted.
	ChannelRules []ChannelRule `json:"channelRules,omitempty"`
}

// ChannelRule allows Operations on the channels matching Channel, a full
// channel path starting with the namespace whose segments may hold
// templates — {sub}, {username}, {claim:name} — filled from the caller's
// identity, and whose last segment may be "*". A template whose value is
// missing or not a valid segment never matches. With Groups set, the
// caller must be in one of them (cognito:groups).
//
//	{"channel": "/users/{sub}/*", "operations": ["SUBSCRIBE", "PUBLISH"]}
//	{"channel": "/admin/*", "operations": ["PUBLISH"], "groups": ["admin"]}
//
// A wildcard subscription is allowed only if every channel it can match
// is: under the first rule, "/users/*" is refused and
// "/users/<own sub>/*" allowed.
type ChannelRule struct {
	Channel    string      `json:"channel"`
	Operations []Operation `json:"operations"`
	Groups     []string    `json:"groups,omitempty"`
}

// Duration is a time.Duration in JSON as a Go duration string ("60s",
// "5m") or a number of seconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	secs, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("duration %s: want a string like \"60s\" or a number of seconds", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// withDefaults fills the zero values; hasAPIKeys and hasUserPool say which
// Options functions exist, for the default auth modes.
func (c Config) withDefaults(hasAPIKeys, hasUserPool bool) Config {
	if len(c.AuthProviders) == 0 {
		if hasAPIKeys {
			c.AuthProviders = append(c.AuthProviders, AuthProvider{AuthType: AuthAPIKey})
		}
		if hasUserPool {
			c.AuthProviders = append(c.AuthProviders, AuthProvider{AuthType: AuthUserPools})
		}
	}
	var all []AuthMode
	seen := map[string]bool{}
	for _, p := range c.AuthProviders {
		if !seen[p.AuthType] {
			seen[p.AuthType] = true
			all = append(all, AuthMode{AuthType: p.AuthType})
		}
	}
	if len(c.ConnectionAuthModes) == 0 {
		c.ConnectionAuthModes = all
	}
	if len(c.DefaultPublishAuthModes) == 0 {
		c.DefaultPublishAuthModes = all
	}
	if len(c.DefaultSubscribeAuthModes) == 0 {
		c.DefaultSubscribeAuthModes = all
	}
	if len(c.Namespaces) == 0 {
		c.Namespaces = []Namespace{{Name: "default"}}
	}
	c.Namespaces = append([]Namespace(nil), c.Namespaces...)
	for i := range c.Namespaces {
		ns := &c.Namespaces[i]
		if len(ns.PublishAuthModes) == 0 {
			ns.PublishAuthModes = c.DefaultPublishAuthModes
		}
		if len(ns.SubscribeAuthModes) == 0 {
			ns.SubscribeAuthModes = c.DefaultSubscribeAuthModes
		}
	}
	setDefault := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = Duration(DefaultKeepAlive)
	}
	if c.ConnectionTimeout <= 0 {
		c.ConnectionTimeout = Duration(DefaultConnectionTimeout)
	}
	setDefault(&c.MaxSubscriptionsPerConnection, DefaultMaxSubscriptions)
	setDefault(&c.SendQueueLength, DefaultSendQueueLength)
	setDefault(&c.SendQueueBytes, DefaultSendQueueBytes)
	for _, v := range []struct {
		cap *int
		def int
	}{
		{&c.MaxConnections, DefaultMaxConnections},
		{&c.MaxConnectionsPerAddress, DefaultMaxConnectionsPerAddress},
		{&c.MaxConnectionsPerAPIKey, DefaultMaxConnectionsPerAPIKey},
	} {
		switch {
		case *v.cap == 0:
			*v.cap = v.def
		case *v.cap < 0:
			*v.cap = Unlimited
		}
	}
	return c
}

// validate checks a defaulted Config.
func (c Config) validate() error {
	types := map[string]bool{}
	for i, p := range c.AuthProviders {
		switch p.AuthType {
		case AuthAPIKey:
		case AuthUserPools:
			if cc := p.CognitoConfig; cc != nil {
				if cc.UserPoolID == "" {
					return fmt.Errorf("authProviders[%d]: cognitoConfig.userPoolId is required", i)
				}
				if cc.AppIDClientRegex != "" {
					if _, err := regexp.Compile(cc.AppIDClientRegex); err != nil {
						return fmt.Errorf("authProviders[%d]: appIdClientRegex: %w", i, err)
					}
				}
			}
		case AuthOIDC:
			if p.OpenIDConnectConfig == nil || p.OpenIDConnectConfig.Issuer == "" {
				return fmt.Errorf("authProviders[%d]: OPENID_CONNECT needs openIDConnectConfig.issuer", i)
			}
		default:
			return fmt.Errorf("authProviders[%d]: authType %q is not supported (API_KEY, AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT)", i, p.AuthType)
		}
		types[p.AuthType] = true
	}
	checkModes := func(where string, modes []AuthMode) error {
		if len(modes) == 0 {
			return fmt.Errorf("%s: no auth mode (configure authProviders)", where)
		}
		for _, m := range modes {
			if !types[m.AuthType] {
				return fmt.Errorf("%s: authType %q has no authProvider", where, m.AuthType)
			}
		}
		return nil
	}
	if err := checkModes("connectionAuthModes", c.ConnectionAuthModes); err != nil {
		return err
	}
	names := map[string]bool{}
	for _, ns := range c.Namespaces {
		if !ValidSegment(ns.Name) {
			return fmt.Errorf("namespace %q: a name is 1-50 letters, digits or inner dashes", ns.Name)
		}
		if names[ns.Name] {
			return fmt.Errorf("namespace %q is declared twice", ns.Name)
		}
		names[ns.Name] = true
		if err := checkModes("namespace "+ns.Name+" publishAuthModes", ns.PublishAuthModes); err != nil {
			return err
		}
		if err := checkModes("namespace "+ns.Name+" subscribeAuthModes", ns.SubscribeAuthModes); err != nil {
			return err
		}
	}
	return nil
}
