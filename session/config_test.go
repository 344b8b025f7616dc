package session

import (
	"net/http"
	"testing"
)

func TestNewRejects(t *testing.T) {
	base := Config{UserPoolID: "us-east-1_abc", ClientID: "client1", Origin: "https://app.example"}
	for name, mut := range map[string]func(*Config){
		"no client":          func(c *Config) { c.ClientID = "" },
		"client with dots":   func(c *Config) { c.ClientID = "a.b" },
		"no origin":          func(c *Config) { c.Origin = "" },
		"origin with path":   func(c *Config) { c.Origin = "https://app.example/app" },
		"origin not http":    func(c *Config) { c.Origin = "ftp://app.example" },
		"unsafe AfterSignIn": func(c *Config) { c.AfterSignIn = "//evil.example" },
		"unsafe challenge":   func(c *Config) { c.ChallengePath = "https://evil.example" },
		"OIDC, no issuer":    func(c *Config) { c.UserPoolID = ""; c.OAuthDomain = "https://auth.example" },
		"None, not Secure": func(c *Config) {
			c.Origin, c.Cookies.SameSite = "http://localhost:3000", http.SameSiteNoneMode
		},
		"bad cookie path":   func(c *Config) { c.Cookies.Path = "app" },
		"bad legacy domain": func(c *Config) { c.Cookies.LegacyDomains = []string{"a;b"} },
	} {
		cfg := base
		mut(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	m, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Config(); c.MountPath != "/api/auth/" || c.AfterSignIn != "/" || c.Issuer != "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc" {
		t.Errorf("defaults: %+v", c)
	}
}
