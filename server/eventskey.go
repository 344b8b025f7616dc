package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/events/apikeys"
	"github.com/cognate-auth/cognate/internal/atomicfile"
)

// devKeyFile holds the development events API key in clear (mode 0600),
// so restarts keep the key that amplify_outputs.json and apps already use.
const devKeyFile = "events-dev-key"

// devKeyLife is long: the key exists for local development only.
const devKeyLife = 365 * 24 * time.Hour

// devEventsKey returns the development API key, creating (or replacing an
// expired or deleted) one.
func devEventsKey(ctx context.Context, dataDir string, keys *apikeys.Manager) (string, error) {
	path := filepath.Join(dataDir, devKeyFile)
	raw, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("events dev key: %w", err)
	}
	key := strings.TrimSpace(string(raw))
	if key != "" {
		_, err := keys.Lookup(ctx, key)
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, apikeys.ErrUnknown) && !errors.Is(err, apikeys.ErrExpired) {
			return "", fmt.Errorf("events dev key: %w", err)
		}
	}
	key, _, err = keys.Create(ctx, "development key (cognate serve)", devKeyLife)
	if err != nil {
		return "", err
	}
	if err := atomicfile.Write(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("events dev key: %w", err)
	}
	return key, nil
}
