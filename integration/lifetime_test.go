package integration_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cognate-auth/cognate/server"
)

// --token-lifetime shortens every token, whatever the client says, so real
// clients can be tested against expiry; refreshed tokens follow it too.
func TestTokenLifetimeOverride(t *testing.T) {
	e := newEnvWith(t, server.Config{TokenLifetime: 20 * time.Second})
	e.signUp(e.pub, "short@example.com")
	res := e.signIn(e.pub, "short@example.com", password)
	if res.ExpiresIn != 20 {
		t.Errorf("ExpiresIn = %d, want 20", res.ExpiresIn)
	}
	refreshed := must(e.refresh(e.pub, "", res.RefreshToken))(t)
	for name, tok := range map[string]*string{
		"access": res.AccessToken, "id": res.IdToken,
		"refreshed access": refreshed.AccessToken, "refreshed id": refreshed.IdToken,
	} {
		var claims struct{ Exp, Iat int64 }
		parts := strings.Split(aws.ToString(tok), ".")
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil || json.Unmarshal(raw, &claims) != nil {
			t.Fatalf("%s token payload: %v", name, err)
		}
		if claims.Exp-claims.Iat != 20 {
			t.Errorf("%s token lives %d s, want 20", name, claims.Exp-claims.Iat)
		}
	}
}

func TestTokenLifetimeRefusedInProduction(t *testing.T) {
	_, err := server.New(t.Context(), server.Config{
		DataDir: t.TempDir(), Production: true, SMTPURL: "smtp://127.0.0.1:1", TokenLifetime: time.Minute,
	})
	if err == nil || !strings.Contains(err.Error(), "token-lifetime") {
		t.Fatalf("server.New(Production, TokenLifetime) = %v, want a refusal naming --token-lifetime", err)
	}
}
