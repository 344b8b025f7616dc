package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cognate-auth/cognate/internal/atomicfile"
	"github.com/cognate-auth/cognate/internal/redact"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// DefaultClientName names the app client made on first start.
const DefaultClientName = "web"

// ensurePools creates what the config file declares or, without one, the
// default pool and client on first start. It returns the pool and client
// that amplify_outputs.json and the banner describe. Any number of nodes
// may run it at once on one database: they end with the same pool and
// client, created once.
func ensurePools(ctx context.Context, svc *userpool.Service, store storage.Storage, fc *FileConfig) (storage.Pool, storage.Client, error) {
	if fc != nil && len(fc.UserPools) > 0 {
		return ensureConfigured(ctx, svc, store, fc)
	}
	return ensureDefault(ctx, svc, store)
}

// defaultIDsSecret names the record of the default pool's and client's
// ids among the server's secrets (storage.Secrets): the first node to
// start on a database chooses them, every other one reads them.
const defaultIDsSecret = "server/default-pool"

// defaultIDs are the ids of the default pool and its app client.
type defaultIDs struct {
	Pool   string `json:"pool"`
	Client string `json:"client"`
}

// ensureDefault returns the default pool and client, creating them on
// first start. Concurrent starts agree on their ids through
// GetOrCreateSecret (one proposal is stored, every node reads it), then
// each creates what is missing: a create that fails because another node
// created the same record first is success.
func ensureDefault(ctx context.Context, svc *userpool.Service, store storage.Storage) (storage.Pool, storage.Client, error) {
	proposal, err := proposeDefaultIDs(ctx, store)
	if err != nil {
		return storage.Pool{}, storage.Client{}, err
	}
	raw, err := store.GetOrCreateSecret(ctx, defaultIDsSecret, func() ([]byte, error) { return json.Marshal(proposal) })
	if err != nil {
		return storage.Pool{}, storage.Client{}, fmt.Errorf("default pool ids: %w", err)
	}
	var ids defaultIDs
	if err := json.Unmarshal(raw, &ids); err != nil || ids.Pool == "" || ids.Client == "" {
		return storage.Pool{}, storage.Client{}, fmt.Errorf("default pool ids: stored record %s is invalid", defaultIDsSecret)
	}
	p, err := createOnce(ctx, ids.Pool, store.GetPool, func(ctx context.Context) error {
		_, err := svc.CreateUserPoolWithID(ctx, ids.Pool, defaultPoolInput())
		return err
	})
	if err != nil {
		return p, storage.Client{}, fmt.Errorf("default pool %s: %w", ids.Pool, err)
	}
	c, err := createOnce(ctx, ids.Client, store.GetClient, func(ctx context.Context) error {
		_, err := svc.CreateUserPoolClientWithID(ctx, ids.Client, defaultClientInput(ids.Pool))
		return err
	})
	if err != nil {
		return p, c, fmt.Errorf("default client %s: %w", ids.Client, err)
	}
	return p, c, nil
}

// proposeDefaultIDs is this node's proposal for the default pool's and
// client's ids: fresh ones on an empty database, and on a database whose
// pools predate the stored record, the oldest pool and its web client
// (or first client), which earlier versions used.
func proposeDefaultIDs(ctx context.Context, store storage.Storage) (defaultIDs, error) {
	pools, err := store.ListPools(ctx)
	if err != nil {
		return defaultIDs{}, fmt.Errorf("default pool: %w", err)
	}
	ids := defaultIDs{Client: strings.ToLower(rand.Text())}
	if len(pools) == 0 {
		if ids.Pool, err = userpool.NewPoolID(defaultRegion); err != nil {
			return ids, fmt.Errorf("default pool: %w", err)
		}
		return ids, nil
	}
	p := pools[0]
	for _, q := range pools {
		if q.CreatedAt.Before(p.CreatedAt) {
			p = q
		}
	}
	ids.Pool = p.ID
	clients, err := store.ListClients(ctx, p.ID)
	if err != nil {
		return ids, fmt.Errorf("default client: %w", err)
	}
	if len(clients) > 0 {
		ids.Client = clients[0].ClientID
	}
	for _, c := range clients {
		if c.Name == DefaultClientName {
			ids.Client = c.ClientID
			break
		}
	}
	return ids, nil
}

// createOnce returns the record id names, calling create first when get
// says it does not exist. If create fails, the record is read again: when
// another node created it meanwhile, that one is the answer.
func createOnce[T any](ctx context.Context, id string, get func(context.Context, string) (T, error), create func(context.Context) error) (T, error) {
	v, err := get(ctx, id)
	if !errors.Is(err, storage.ErrNotFound) {
		return v, err
	}
	cerr := create(ctx)
	v, err = get(ctx, id)
	if cerr != nil && errors.Is(err, storage.ErrNotFound) {
		return v, cerr
	}
	return v, err
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

// ensureConfigured creates the config file's pools and clients that are
// missing and gives existing clients the file's settings. Nodes that run
// it at once with the same file end alike: a create another node won is
// followed by the update.
func ensureConfigured(ctx context.Context, svc *userpool.Service, store storage.Storage, fc *FileConfig) (storage.Pool, storage.Client, error) {
	var first storage.Pool
	var firstClient storage.Client
	for i, pc := range fc.UserPools {
		p, err := createOnce(ctx, pc.Id, store.GetPool, func(ctx context.Context) error {
			_, err := svc.CreateUserPoolWithID(ctx, pc.Id, pc.CreateUserPoolInput)
			return err
		})
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

// ensureClient creates a declared client, or updates it to the file's
// settings when it exists (created earlier, or by another node just now).
func ensureClient(ctx context.Context, svc *userpool.Service, store storage.Storage, cc ClientConfig) (storage.Client, error) {
	created := false
	_, err := createOnce(ctx, cc.ClientId, store.GetClient, func(ctx context.Context) error {
		_, err := svc.CreateUserPoolClientWithID(ctx, cc.ClientId, userpool.CreateUserPoolClientInput{ClientSettingsInput: cc.ClientSettingsInput, GenerateSecret: cc.GenerateSecret})
		created = err == nil
		return err
	})
	if err != nil {
		return storage.Client{}, err
	}
	if !created {
		if _, err := svc.UpdateUserPoolClient(ctx, userpool.UpdateUserPoolClientInput{ClientSettingsInput: cc.ClientSettingsInput, ClientId: cc.ClientId}); err != nil {
			return storage.Client{}, err
		}
	}
	return store.GetClient(ctx, cc.ClientId)
}

// AdminCredentials are the AWS-style keys admin operations are signed
// with.
type AdminCredentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

// ErrAdminCredentialsRequired is returned by New when the storage is
// shared (not SQLite) but no admin credentials were given: every node
// must sign admin operations with the same pair.
var ErrAdminCredentialsRequired = errors.New("admin credentials are required with shared storage")

// adminCredentials returns the configured pair or, with SQLite storage,
// the one generated on first start into <data>/admin-credentials.json
// (mode 0600). Other storage is shared by several nodes, which must all
// accept the same pair: it must be configured.
func adminCredentials(cfg *Config) (AdminCredentials, error) {
	if cfg.AdminAccessKeyID != "" || cfg.AdminSecretAccessKey != "" {
		if cfg.AdminAccessKeyID == "" || len(cfg.AdminSecretAccessKey) < 16 {
			return AdminCredentials{}, errors.New("--admin-access-key-id and --admin-secret-access-key (16+ characters) go together")
		}
		return AdminCredentials{cfg.AdminAccessKeyID, cfg.AdminSecretAccessKey}, nil
	}
	if !sqliteStorage(cfg.Storage) {
		return AdminCredentials{}, fmt.Errorf("%w: --storage %s is shared by every node started with it, so they must all sign admin operations with one pair; "+
			"give each node the same --admin-access-key-id and --admin-secret-access-key (16+ characters), "+
			"or COGNATE_ADMIN_ACCESS_KEY_ID and COGNATE_ADMIN_SECRET_ACCESS_KEY, e.g. AKIA plus 16 letters and `openssl rand -base64 30`",
			ErrAdminCredentialsRequired, redact.URL(cfg.Storage))
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
