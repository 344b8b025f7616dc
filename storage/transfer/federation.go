package transfer

import (
	"context"

	"github.com/cognate-auth/cognate/storage"
)

var idpKind = kind[storage.IdentityProvider]{
	key: func(p storage.IdentityProvider) string { return p.PoolID + "/" + p.Name },
	find: func(ctx context.Context, to storage.Storage, p storage.IdentityProvider) (bool, string, error) {
		got, err := to.GetIdentityProvider(ctx, p.PoolID, p.Name)
		return lookup(p, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, p storage.IdentityProvider) error {
		return to.CreateIdentityProvider(ctx, p)
	},
}

// copyIdentityProviders copies each pool's identity providers as stored
// (their secrets stay sealed under the server key, which Copy copies).
func (c *copier) copyIdentityProviders(ctx context.Context) error {
	return c.eachPool(ctx, func(poolID string) error {
		provs, err := c.from.ListIdentityProviders(ctx, poolID, "", 0)
		if err != nil {
			return err
		}
		return copyAll(ctx, c, idpKind, provs)
	})
}

var linkKind = kind[storage.FederatedLink]{
	key: func(l storage.FederatedLink) string { return l.PoolID + "/" + l.ProviderName + "/" + l.Subject },
	find: func(ctx context.Context, to storage.Storage, l storage.FederatedLink) (bool, string, error) {
		got, err := to.GetFederatedLink(ctx, l.PoolID, l.ProviderName, l.Subject)
		return lookup(l, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, l storage.FederatedLink) error {
		return to.CreateFederatedLink(ctx, l)
	},
}

// copyFederatedLinks copies each user's links to provider identities, a
// page of users at a time.
func (c *copier) copyFederatedLinks(ctx context.Context) error {
	return c.eachPool(ctx, func(poolID string) error {
		return eachUserPage(ctx, c.from, poolID, c.opts.BatchSize, func(users []storage.User) error {
			for _, u := range users {
				links, err := c.from.ListFederatedLinks(ctx, poolID, u.Username)
				if err != nil {
					return err
				}
				if err := copyAll(ctx, c, linkKind, links); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
