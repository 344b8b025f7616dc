package oauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/oauth"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
	"github.com/cognate-auth/cognate/userpool"
)

// downStore is real storage whose reads fail, while down is set, as
// those of an unreachable database do.
type downStore struct {
	storage.Storage
	down atomic.Bool
}

func (s *downStore) fail() error {
	if s.down.Load() {
		return fmt.Errorf("connection reset by peer: %w", storage.ErrUnavailable)
	}
	return nil
}

func (s *downStore) GetPool(ctx context.Context, id string) (storage.Pool, error) {
	if err := s.fail(); err != nil {
		return storage.Pool{}, err
	}
	return s.Storage.GetPool(ctx, id)
}

func (s *downStore) GetClient(ctx context.Context, id string) (storage.Client, error) {
	if err := s.fail(); err != nil {
		return storage.Client{}, err
	}
	return s.Storage.GetClient(ctx, id)
}

func (s *downStore) GetRefreshFamily(ctx context.Context, id string) (storage.RefreshFamily, error) {
	if err := s.fail(); err != nil {
		return storage.RefreshFamily{}, err
	}
	return s.Storage.GetRefreshFamily(ctx, id)
}

func (s *downStore) ListSigningKeys(ctx context.Context, poolID string) ([]storage.SigningKey, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.Storage.ListSigningKeys(ctx, poolID)
}

// TestStorageUnavailable: with storage unreachable, the OAuth endpoints
// answer 503 temporarily_unavailable with Retry-After, and the pages a
// 503 page that asks to try again, never a refusal of the client or the
// token.
func TestStorageUnavailable(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cognate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &downStore{Storage: db}
	svc, err := userpool.New(ctx, userpool.Options{Storage: store, Keys: keys.NewManager(store, keys.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreateUserPool(ctx, userpool.CreateUserPoolInput{PoolName: "down", UsernameAttributes: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	pool := p.UserPool.Id
	c, err := svc.CreateUserPoolClient(ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: pool, ClientName: "down",
		ExplicitAuthFlows:               []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"},
		AllowedOAuthScopes: []string{"openid", "email"}, CallbackURLs: []string{callback},
		SupportedIdentityProviders: []string{"COGNITO"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	client := c.UserPoolClient.ClientId
	const email, password = "down@example.com", "Correct-Horse-9"
	if _, err := svc.AdminCreateUser(ctx, userpool.AdminCreateUserInput{UserPoolId: pool, Username: email, MessageAction: "SUPPRESS"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{UserPoolId: pool, Username: email, Password: password, Permanent: true}); err != nil {
		t.Fatal(err)
	}
	auth, err := svc.InitiateAuth(ctx, userpool.InitiateAuthInput{
		AuthFlow: "USER_PASSWORD_AUTH", ClientId: client,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": password},
	})
	if err != nil {
		t.Fatal(err)
	}
	access := auth.AuthenticationResult.AccessToken

	// A node that has cached nothing yet, as after a restart.
	fresh, err := userpool.New(ctx, userpool.Options{Storage: store, Keys: keys.NewManager(store, keys.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	h := oauth.New(oauth.Options{Service: fresh, Pools: store})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	store.down.Store(true)

	authz := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {callback}, "scope": {"openid"}}.Encode()
	for _, tc := range []struct {
		name, method, path, body, bearer string
		wantJSON                         string // the error member; "" for a page or a message
		page                             bool
	}{
		{"token", http.MethodPost, oauth.TokenPath, url.Values{
			"grant_type": {"authorization_code"}, "client_id": {client}, "code": {"some-code"}, "redirect_uri": {callback},
		}.Encode(), "", "temporarily_unavailable", false},
		{"userInfo", http.MethodGet, oauth.UserInfoPath, "", access, "temporarily_unavailable", false},
		{"authorize", http.MethodGet, oauth.AuthorizePath + "?" + authz, "", "", "", true},
		{"login page", http.MethodGet, "/login?" + authz, "", "", "", true},
		{"jwks", http.MethodGet, "/" + pool + "/.well-known/jwks.json", "", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
				t.Fatalf("%d, Retry-After %q: %s; want 503 with Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			ct := resp.Header.Get("Content-Type")
			switch {
			case tc.wantJSON != "":
				var e struct {
					Error string `json:"error"`
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error != tc.wantJSON {
					t.Fatalf("body %s, want error %s", body, tc.wantJSON)
				}
			case tc.page:
				if !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(body), "briefly unavailable") {
					t.Fatalf("%s page does not say the service is briefly unavailable:\n%s", ct, body)
				}
			case !strings.HasPrefix(ct, "application/json"):
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
}
