package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cognate-auth/cognate/internal/atomicfile"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// DefaultClientName names the app client made on first start.
const DefaultClientName = "web"

// ensurePools creates what the config file declares or, without one, a
// default pool and client on first start. It returns the pool and client
// that amplify_outputs.json and the banner describe.
func ensurePools(ctx context.Context, svc *userpool.Service, store storage.Storage, fc *FileConfig) (storage.Pool, storage.Client, error) {
	if fc != nil && len(fc.UserPools) > 0 {
		return ensureConfigured(ctx, svc, store, fc)
	}
	pools, err := store.ListPools(ctx)
	if err != nil {
		return storage.Pool{}, storage.Client{}, err
	}
	if len(pools) == 0 {
		return createDefault(ctx, svc, store)
	}
	// A restart reuses the first pool (the default one) and its web client.
	p := pools[0]
	for _, q := range pools {
		if q.CreatedAt.Before(p.CreatedAt) {
			p = q
		}
	}
	clients, err := store.ListClients(ctx, p.ID)
	if err != nil {
		return p, storage.Client{}, err
	}
	if len(clients) == 0 {
		return p, storage.Client{}, fmt.Errorf("pool %s has no app client", p.ID)
	}
	c := clients[0]
	for _, x := range clients {
		if x.Name == DefaultClientName {
			c = x
			break
		}
	}
	return p, c, nil
}

func defaultPoolInput() userpool.CreateUserPoolInput {
	return userpool.CreateUserPoolInput{
		PoolName:               "cognate",
		UsernameAttributes:     []string{"email"},
		AutoVerifiedAttributes: []string{"email"},
		UserAttributeUpdateSettings: &userpool.UserAttributeUpdateSettings{
			AttributesRequireVerificationBeforeUpdate: []string{"email"},
		},
	}
}

// defaultClientInput is a public client for browser and SSR apps: SRP and
// password sign-in, and otherwise the settings Cognito gives a new app
// client. Refresh-token rotation in particular stays off, as in Cognito:
// with it on, a refresh whose new refresh token cannot be stored (a
// Next.js server component cannot write cookies) ends the whole sign-in
// once the grace period has passed.
func defaultClientInput(poolID string) userpool.CreateUserPoolClientInput {
	return userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: poolID,
		ClientName: DefaultClientName,
		ExplicitAuthFlows: []string{
			"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
		},
	}}
}

func createDefault(ctx context.Context, svc *userpool.Service, store storage.Storage) (storage.Pool, storage.Client, error) {
	pout, err := svc.CreateUserPool(ctx, defaultPoolInput())
	if err != nil {
		return storage.Pool{}, storage.Client{}, fmt.Errorf("create default pool: %w", err)
	}
	cout, err := svc.CreateUserPoolClient(ctx, defaultClientInput(pout.UserPool.Id))
	if err != nil {
		return storage.Pool{}, storage.Client{}, fmt.Errorf("create default client: %w", err)
	}
	p, err := store.GetPool(ctx, pout.UserPool.Id)
	if err != nil {
		return p, storage.Client{}, err
	}
	c, err := store.GetClient(ctx, cout.UserPoolClient.ClientId)
	return p, c, err
}

func ensureConfigured(ctx context.Context, svc *userpool.Service, store storage.Storage, fc *FileConfig) (storage.Pool, storage.Client, error) {
	var first storage.Pool
	var firstClient storage.Client
	for i, pc := range fc.UserPools {
		p, err := store.GetPool(ctx, pc.Id)
		if errors.Is(err, storage.ErrNotFound) {
			if _, err = svc.CreateUserPoolWithID(ctx, pc.Id, pc.CreateUserPoolInput); err != nil {
				return first, firstClient, fmt.Errorf("config pool %s: %w", pc.Id, err)
			}
			p, err = store.GetPool(ctx, pc.Id)
		}
		if err != nil {
			return first, firstClient, fmt.Errorf("config pool %s: %w", pc.Id, err)
		}
		for j, cc := range pc.Clients {
			cc.UserPoolId = pc.Id
			c, err := ensureClient(ctx, svc, store, cc)
			if err != nil {
				return first, firstClient, fmt.Errorf("config pool %s client %s: %w", pc.Id, cc.ClientId, err)
			}
			if i == 0 && j == 0 {
				firstClient = c
			}
		}
		if i == 0 {
			first = p
		}
	}
	if firstClient.ClientID == "" {
		return first, firstClient, fmt.Errorf("config: pool %s declares no Clients", first.ID)
	}
	return first, firstClient, nil
}

func ensureClient(ctx context.Context, svc *userpool.Service, store storage.Storage, cc ClientConfig) (storage.Client, error) {
	_, err := store.GetClient(ctx, cc.ClientId)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		_, err = svc.CreateUserPoolClientWithID(ctx, cc.ClientId, userpool.CreateUserPoolClientInput{ClientSettingsInput: cc.ClientSettingsInput, GenerateSecret: cc.GenerateSecret})
	case err == nil:
		_, err = svc.UpdateUserPoolClient(ctx, userpool.UpdateUserPoolClientInput{ClientSettingsInput: cc.ClientSettingsInput, ClientId: cc.ClientId})
	}
	if err != nil {
		return storage.Client{}, err
	}
	return store.GetClient(ctx, cc.ClientId)
}

// AdminCredentials are the AWS-style keys admin operations are signed
// with.
type AdminCredentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

// adminCredentials returns the configured pair or the one generated on
// first start into <data>/admin-credentials.json (mode 0600).
func adminCredentials(cfg *Config) (AdminCredentials, error) {
	if cfg.AdminAccessKeyID != "" || cfg.AdminSecretAccessKey != "" {
		if cfg.AdminAccessKeyID == "" || len(cfg.AdminSecretAccessKey) < 16 {
			return AdminCredentials{}, errors.New("--admin-access-key-id and --admin-secret-access-key (16+ characters) go together")
		}
		return AdminCredentials{cfg.AdminAccessKeyID, cfg.AdminSecretAccessKey}, nil
	}
	path := filepath.Join(cfg.DataDir, "admin-credentials.json")
	raw, err := os.ReadFile(path)
	if err == nil {
		var ac AdminCredentials
		if err := json.Unmarshal(raw, &ac); err != nil || ac.AccessKeyID == "" || ac.SecretAccessKey == "" {
			return ac, fmt.Errorf("%s: invalid credentials file", path)
		}
		return ac, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return AdminCredentials{}, err
	}
	ac := AdminCredentials{AccessKeyID: "AKIA" + randomUpper(16), SecretAccessKey: randomToken(40)}
	out, _ := json.MarshalIndent(ac, "", "  ")
	if err := atomicfile.Write(path, append(out, '\n'), 0o600); err != nil {
		return ac, err
	}
	return ac, nil
}

func randomUpper(n int) string {
	const set = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = set[int(b[i])%len(set)]
	}
	return string(b)
}

func randomToken(n int) string {
	const set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = set[int(b[i])%len(set)]
	}
	return string(b)
}
