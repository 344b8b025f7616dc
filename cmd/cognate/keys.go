package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/cognate-auth/cognate/internal/redact"
	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/backends"
)

// keyTask is an admin task on a pool's signing keys. Like the API-key
// tasks, it works on the server's database directly: running nodes see
// the change at their next key refresh.
type keyTask func(ctx context.Context, store storage.Storage, pool string, args []string, stdout, stderr io.Writer) error

var keyTasks = map[string]keyTask{
	"rotate-keys": rotateKeys,
	"list-keys":   listKeys,

	"webhook-secret": webhookSecret,
}

// withPoolKeys opens the server's database (as withAPIKeys does) and
// checks that the pool exists before running fn.
func withPoolKeys(ctx context.Context, c adminConn, fn func(store storage.Storage, pool string) error) error {
	pool, err := c.poolID()
	if err != nil {
		return err
	}
	store, err := backends.Open(ctx, backends.Options{URL: c.storage, DataDir: c.dataDir, MustExist: true})
	if err != nil {
		return fmt.Errorf("keys: %w", redact.Error(err, "--storage", c.storage))
	}
	defer store.Close()
	if _, err := store.GetPool(ctx, pool); errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("keys: no pool %s in this database", pool)
	} else if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return fn(store, pool)
}

// poolID is --pool, or the pool of <data>/amplify_outputs.json.
func (c *adminConn) poolID() (string, error) {
	if c.pool != "" {
		return c.pool, nil
	}
	raw, err := os.ReadFile(filepath.Join(c.dataDir, "amplify_outputs.json"))
	if err != nil {
		return "", fmt.Errorf("pool id: %w (pass --pool or --data)", err)
	}
	var out struct {
		Auth struct {
			UserPoolID string `json:"user_pool_id"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Auth.UserPoolID == "" {
		return "", errors.New("pool id: cannot read amplify_outputs.json")
	}
	return out.Auth.UserPoolID, nil
}

func rotateKeys(ctx context.Context, store storage.Storage, pool string, args []string, stdout, stderr io.Writer) error {
	fs := taskFlags("rotate-keys", stderr)
	use := fs.String("use", "both", "which key: access, id or both")
	in := fs.Duration("activate-in", keys.DefaultActivationDelay, "how long from now the new key starts signing; every node publishes it in the JWKS meanwhile (keep it at least the nodes' one-minute key refresh)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var uses []string
	switch *use {
	case "both":
		uses = []string{keys.UseAccess, keys.UseID}
	case keys.UseAccess, keys.UseID:
		uses = []string{*use}
	default:
		return fmt.Errorf("rotate-keys: --use must be access, id or both, not %q", *use)
	}
	if *in < 0 {
		return errors.New("rotate-keys: --activate-in must not be negative")
	}
	if *in < keys.DefaultRefreshInterval {
		fmt.Fprintf(stderr, "warning: --activate-in %v is shorter than the nodes' key refresh (%v): a node may sign with a key other nodes do not publish yet\n", *in, keys.DefaultRefreshInterval)
	}
	m := keys.NewManager(store, keys.Options{})
	at := time.Now().Add(*in)
	for _, u := range uses {
		if err := m.RotateAt(ctx, pool, u, at); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "new %s key(s) of %s stored: every node publishes them within %v and signs with them from %s\n",
		*use, pool, keys.DefaultRefreshInterval, at.UTC().Format(time.RFC3339))
	return listKeys(ctx, store, pool, nil, stdout, stderr)
}

func listKeys(ctx context.Context, store storage.Storage, pool string, args []string, stdout, stderr io.Writer) error {
	if err := taskFlags("list-keys", stderr).Parse(args); err != nil {
		return err
	}
	recs, err := store.ListSigningKeys(ctx, pool)
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tUSE\tSIGNS FROM\tSTATE")
	current := map[string]bool{}
	for _, k := range recs { // newest first
		state := "published (verifies older tokens)"
		switch {
		case k.CreatedAt.After(now):
			state = "scheduled"
		case !current[k.Use]:
			current[k.Use] = true
			state = "signing"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Use, k.CreatedAt.UTC().Format(time.RFC3339), state)
	}
	return tw.Flush()
}
