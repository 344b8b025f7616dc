package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// webhookSecret prints, base64, the key that signs a pool's trigger
// webhook requests (created on first use), for the webhooks to verify
// X-Cognate-Signature with.
func webhookSecret(ctx context.Context, store storage.Storage, pool string, args []string, stdout, stderr io.Writer) error {
	if err := taskFlags("webhook-secret", stderr).Parse(args); err != nil {
		return err
	}
	key, err := userpool.WebhookSecret(ctx, store, pool)
	if err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}
	_, err = fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(key))
	return err
}
