package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/federation"
)

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://idp.example.com": true, "http://127.0.0.1:9000/x": true, "http://localhost:1": true, "http://[::1]:2": true,
		"http://idp.example.com": false, "ftp://x": false, "/relative": false, "https://": false,
	} {
		if got := checkURL(raw) == nil; got != ok {
			t.Errorf("checkURL(%q) ok=%v, want %v", raw, got, ok)
		}
	}
}

func TestPresetsAndConfigErrors(t *testing.T) {
	k := Kind(Options{})
	ctx := context.Background()
	d, err := k.Check(ctx, federation.Provider{Type: federation.TypeFacebook, Details: map[string]string{"client_id": "x", "token_url": "https://127.0.0.1/t"}})
	if err != nil || d["authorize_url"] != presets[federation.TypeFacebook]["authorize_url"] || d["token_url"] != "https://127.0.0.1/t" {
		t.Fatalf("Facebook preset: %v %v", d, err)
	}
	for name, p := range map[string]federation.Provider{
		"plain http endpoint": {Type: federation.TypeGoogle, Details: map[string]string{"token_url": "http://evil.example/t"}},
		"bad apple key":       {Type: federation.TypeSignInWithApple, Details: map[string]string{"private_key": "nope"}},
	} {
		if _, err := k.Check(ctx, p); !errors.Is(err, federation.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

func TestAppleClientSecret(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	k, err := parseAppleKey(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := k.clientSecret(map[string]string{"key_id": "K", "team_id": "T", "client_id": "C"}, time.Unix(1000, 0))
	if err != nil || strings.Count(jwt, ".") != 2 {
		t.Fatalf("client secret %q: %v", jwt, err)
	}
}

func TestFinishRefusesWithoutCalling(t *testing.T) {
	u := &upstream{kind: &kind{}, typ: federation.TypeOIDC, details: map[string]string{}}
	cases := []struct {
		name    string
		binding string
		params  url.Values
		want    error
	}{
		{"provider error", `{"n":"a","v":"b"}`, url.Values{"error": {"access_denied"}}, federation.ErrDenied},
		{"no binding", "", url.Values{"code": {"c"}}, federation.ErrInvalidResponse},
		{"no code", `{"n":"a","v":"b"}`, url.Values{}, federation.ErrInvalidResponse},
	}
	for _, c := range cases {
		if _, err := u.Finish(context.Background(), federation.Request{}, c.binding, c.params); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzProviderAnswers feeds what a provider controls — claims, Apple's
// user form value — to the parsers that read them.
func FuzzProviderAnswers(f *testing.F) {
	f.Add(`{"sub":"1","email_verified":true,"n":3.5,"o":{"a":[1]}}`, `{"name":{"firstName":"A","lastName":"B"}}`)
	f.Add(`{}`, `x`)
	f.Fuzz(func(t *testing.T, claims, user string) {
		var m map[string]any
		out := map[string]string{}
		if json.Unmarshal([]byte(claims), &m) == nil {
			flatten(m, out)
		}
		for k := range out {
			if _, ok := m[k]; !ok {
				t.Fatalf("flatten made up attribute %q", k)
			}
		}
		addAppleUser(user, out)
		for k, v := range out {
			if _, ok := m[k]; !ok && ((k != "firstName" && k != "lastName") || v == "") {
				t.Fatalf("addAppleUser added %q=%q", k, v)
			}
		}
	})
}
