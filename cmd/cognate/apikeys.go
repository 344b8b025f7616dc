package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cognate-auth/cognate/events/apikeys"
	"github.com/cognate-auth/cognate/internal/redact"
	"github.com/cognate-auth/cognate/storage/backends"
)

type apiKeyTask func(ctx context.Context, m *apikeys.Manager, args []string, stdout, stderr io.Writer) error

var apiKeyTasks = map[string]apiKeyTask{
	"create-api-key": createAPIKey,
	"list-api-keys":  listAPIKeys,
	"delete-api-key": deleteAPIKey,
}

// withAPIKeys opens the server's database, the one storageURL names
// (--storage) or else dataDir's (which must exist: a server has run
// there), for the duration of fn.
func withAPIKeys(ctx context.Context, storageURL, dataDir string, fn func(*apikeys.Manager) error) error {
	store, err := backends.Open(ctx, backends.Options{URL: storageURL, DataDir: dataDir, MustExist: true})
	if err != nil {
		return fmt.Errorf("api keys: %w", redact.Error(err, "--storage", storageURL))
	}
	defer store.Close()
	return fn(apikeys.New(store, apikeys.Options{}))
}

func createAPIKey(ctx context.Context, m *apikeys.Manager, args []string, stdout, stderr io.Writer) error {
	fs := taskFlags("create-api-key", stderr)
	desc := fs.String("description", "", "what the key is for")
	expires := fs.Duration("expires", 7*24*time.Hour, "lifetime of the key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, rec, err := m.Create(ctx, *desc, *expires)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\nid %s, expires %s (the key is shown only now)\n", key, rec.ID, rec.ExpiresAt.Format(time.RFC3339))
	return nil
}

func listAPIKeys(ctx context.Context, m *apikeys.Manager, args []string, stdout, stderr io.Writer) error {
	if err := taskFlags("list-api-keys", stderr).Parse(args); err != nil {
		return err
	}
	keys, err := m.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tEXPIRES\tDESCRIPTION")
	now := time.Now()
	for _, k := range keys {
		exp := k.ExpiresAt.Format(time.RFC3339)
		if !now.Before(k.ExpiresAt) {
			exp += " (expired)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.CreatedAt.Format(time.RFC3339), exp, k.Description)
	}
	return tw.Flush()
}

func deleteAPIKey(ctx context.Context, m *apikeys.Manager, args []string, stdout, stderr io.Writer) error {
	fs := taskFlags("delete-api-key", stderr)
	id := fs.String("id", "", "id of the key (from list-api-keys)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id == "" {
		return fmt.Errorf("delete-api-key: --id is required")
	}
	if err := m.Delete(ctx, *id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted %s\n", *id)
	return nil
}
