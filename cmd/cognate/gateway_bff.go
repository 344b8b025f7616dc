package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/cognate-auth/cognate/gateway/bffstore"
	bffpostgres "github.com/cognate-auth/cognate/gateway/bffstore/postgres"
	bffredis "github.com/cognate-auth/cognate/gateway/bffstore/redis"
	bffsqlite "github.com/cognate-auth/cognate/gateway/bffstore/sqlite"
)

// defaultSessionFile is the BFF session store's file in --data.
const defaultSessionFile = "gateway-sessions.db"

// openSessionStore opens --session-store: a redis:// or rediss:// URL, a
// postgres:// or postgresql:// URL, else an SQLite file path ("": gateway-sessions.db in dataDir). shared
// reports whether other hosts' nodes can use it, which needs the same
// --secret-key-file on each.
func openSessionStore(ctx context.Context, spec, dataDir, clientID string) (store bffstore.Store, closer io.Closer, shared bool, err error) {
	switch {
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		// The client id in the prefix keeps the gateways of several apps
		// on one Redis apart.
		s, err := bffredis.Open(spec, bffredis.Options{Prefix: bffredis.DefaultPrefix + clientID + ":"})
		if err != nil {
			return nil, nil, false, err
		}
		return s, s, true, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		s, err := bffpostgres.Open(ctx, spec, bffpostgres.Options{})
		if err != nil {
			return nil, nil, false, err
		}
		return s, s, true, nil
	case strings.Contains(spec, "://"):
		return nil, nil, false, fmt.Errorf("%q: want redis://, rediss://, postgres:// or a file path", spec)
	}
	if spec == "" {
		spec = filepath.Join(dataDir, defaultSessionFile)
	}
	s, err := bffsqlite.Open(ctx, spec)
	if err != nil {
		return nil, nil, false, err
	}
	return s, s, false, nil
}
