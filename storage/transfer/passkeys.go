package transfer

import (
	"context"
	"encoding/hex"

	"github.com/cognate-auth/cognate/storage"
)

var passkeyKind = kind[storage.WebAuthnCredential]{
	key: func(w storage.WebAuthnCredential) string { return w.PoolID + "/" + hex.EncodeToString(w.ID) },
	find: func(ctx context.Context, to storage.Storage, w storage.WebAuthnCredential) (bool, string, error) {
		got, err := to.GetWebAuthnCredential(ctx, w.PoolID, w.ID)
		return lookup(w, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, w storage.WebAuthnCredential) error {
		return to.CreateWebAuthnCredential(ctx, w)
	},
}

// copyPasskeys copies each user's passkeys, a page of users at a time.
func (c *copier) copyPasskeys(ctx context.Context) error {
	return c.eachPool(ctx, func(poolID string) error {
		return eachUserPage(ctx, c.from, poolID, c.opts.BatchSize, func(users []storage.User) error {
			for _, u := range users {
				creds, err := c.from.ListWebAuthnCredentials(ctx, poolID, u.Username, nil, 0)
				if err != nil {
					return err
				}
				if err := copyAll(ctx, c, passkeyKind, creds); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
