package transfer

import (
	"context"
	"errors"

	"github.com/cognate-auth/cognate/storage"
)

// passwordHash is a user's imported password hash, waiting for the
// user's first sign-in: without it the user could not sign in at all.
type passwordHash struct {
	PoolID, Username, Hash string
}

var passwordHashKind = kind[passwordHash]{
	key: func(h passwordHash) string { return h.PoolID + "/" + h.Username },
	find: func(ctx context.Context, to storage.Storage, h passwordHash) (bool, string, error) {
		got, err := to.GetPasswordHash(ctx, h.PoolID, h.Username)
		return lookup(h, passwordHash{PoolID: h.PoolID, Username: h.Username, Hash: got}, err)
	},
	create: func(ctx context.Context, to storage.Storage, h passwordHash) error {
		return to.PutPasswordHash(ctx, h.PoolID, h.Username, h.Hash)
	},
}

// userPasswordHashes returns the imported hashes of a page of users.
func userPasswordHashes(ctx context.Context, s storage.Storage, poolID string, users []storage.User) ([]passwordHash, error) {
	var out []passwordHash
	for _, u := range users {
		if len(u.SRPVerifier) > 0 {
			continue // signed in since: a hash left behind is never read
		}
		h, err := s.GetPasswordHash(ctx, poolID, u.Username)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, passwordHash{PoolID: poolID, Username: u.Username, Hash: h})
	}
	return out, nil
}

// copyPasswordHashes copies the imported hashes of users who have not
// signed in since their import, a page of users at a time.
func (c *copier) copyPasswordHashes(ctx context.Context) error {
	return c.eachPool(ctx, func(poolID string) error {
		return eachUserPage(ctx, c.from, poolID, c.opts.BatchSize, func(users []storage.User) error {
			hashes, err := userPasswordHashes(ctx, c.from, poolID, users)
			if err != nil {
				return err
			}
			return copyAll(ctx, c, passwordHashKind, hashes)
		})
	})
}
