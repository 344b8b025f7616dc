package transfer

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/cognate-auth/cognate/storage"
)

var poolKind = kind[storage.Pool]{
	key: func(p storage.Pool) string { return p.ID },
	find: func(ctx context.Context, to storage.Storage, p storage.Pool) (bool, string, error) {
		got, err := to.GetPool(ctx, p.ID)
		return lookup(p, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, p storage.Pool) error { return to.CreatePool(ctx, p) },
}

func (c *copier) copyPools(ctx context.Context) error {
	pools, err := c.from.ListPools(ctx)
	if err != nil {
		return err
	}
	return copyAll(ctx, c, poolKind, pools)
}

// eachPool calls fn with every source pool's ID.
func (c *copier) eachPool(ctx context.Context, fn func(poolID string) error) error {
	pools, err := c.from.ListPools(ctx)
	if err != nil {
		return err
	}
	for _, p := range pools {
		if err := fn(p.ID); err != nil {
			return err
		}
	}
	return nil
}

var clientKind = kind[storage.Client]{
	key: func(cl storage.Client) string { return cl.PoolID + "/" + cl.ClientID },
	find: func(ctx context.Context, to storage.Storage, cl storage.Client) (bool, string, error) {
		got, err := to.GetClient(ctx, cl.ClientID)
		return lookup(cl, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, cl storage.Client) error {
		return to.CreateClient(ctx, cl)
	},
}

func (c *copier) copyClients(ctx context.Context) error {
	return c.eachPool(ctx, func(poolID string) error {
		clients, err := c.from.ListClients(ctx, poolID)
		if err != nil {
			return err
		}
		return copyAll(ctx, c, clientKind, clients)
	})
}

var signingKeyKind = kind[storage.SigningKey]{
	key: func(k storage.SigningKey) string { return k.PoolID + "/" + k.ID },
	find: func(ctx context.Context, to storage.Storage, k storage.SigningKey) (bool, string, error) {
		keys, err := to.ListSigningKeys(ctx, k.PoolID)
		if err != nil {
			return false, "", err
		}
		i := slices.IndexFunc(keys, func(got storage.SigningKey) bool { return got.ID == k.ID })
		if i < 0 {
			return false, "", nil
		}
		return true, diffFields(k, keys[i]), nil
	},
	create: func(ctx context.Context, to storage.Storage, k storage.SigningKey) error {
		return to.CreateSigningKey(ctx, k)
	},
}

func (c *copier) copySigningKeys(ctx context.Context) error {
	return c.eachPool(ctx, func(poolID string) error {
		keys, err := c.from.ListSigningKeys(ctx, poolID)
		if err != nil {
			return err
		}
		return copyAll(ctx, c, signingKeyKind, keys)
	})
}

var userKind = kind[storage.User]{
	key: func(u storage.User) string { return u.PoolID + "/" + u.Username },
	find: func(ctx context.Context, to storage.Storage, u storage.User) (bool, string, error) {
		got, err := to.GetUser(ctx, u.PoolID, u.Username)
		return lookup(u, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, u storage.User) error { return to.CreateUser(ctx, u) },
}

// copyUsers copies each pool's users a page (a batch) at a time.
func (c *copier) copyUsers(ctx context.Context) error {
	return c.eachPool(ctx, func(poolID string) error {
		return eachUserPage(ctx, c.from, poolID, c.opts.BatchSize, func(users []storage.User) error {
			return apply(ctx, c, userKind, users)
		})
	})
}

// eachUserPage calls fn with every page of a pool's users.
func eachUserPage(ctx context.Context, s storage.Storage, poolID string, size int, fn func([]storage.User) error) error {
	after := ""
	for {
		users, err := s.ListUsers(ctx, poolID, after, size)
		if err != nil || len(users) == 0 {
			return err
		}
		if err := fn(users); err != nil {
			return err
		}
		if len(users) < size {
			return nil
		}
		after = users[len(users)-1].Username
	}
}

var groupKind = kind[storage.Group]{
	key: func(g storage.Group) string { return g.PoolID + "/" + g.Name },
	find: func(ctx context.Context, to storage.Storage, g storage.Group) (bool, string, error) {
		got, err := to.GetGroup(ctx, g.PoolID, g.Name)
		return lookup(g, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, g storage.Group) error { return to.CreateGroup(ctx, g) },
}

func (c *copier) copyGroups(ctx context.Context) error {
	return c.eachPool(ctx, func(poolID string) error {
		groups, err := c.from.ListGroups(ctx, poolID)
		if err != nil {
			return err
		}
		return copyAll(ctx, c, groupKind, groups)
	})
}

var memberKind = kind[member]{
	key: member.String,
	find: func(ctx context.Context, to storage.Storage, m member) (bool, string, error) {
		groups, err := to.ListGroupsForUser(ctx, m.poolID, m.username)
		if err != nil {
			return false, "", err
		}
		return slices.ContainsFunc(groups, func(g storage.Group) bool { return g.Name == m.group }), "", nil
	},
	create: func(ctx context.Context, to storage.Storage, m member) error {
		return to.AddUserToGroup(ctx, m.poolID, m.username, m.group)
	},
}

func (c *copier) copyGroupMembers(ctx context.Context) error {
	b := newBatcher(c, memberKind)
	err := c.from.EachGroupMember(ctx, func(poolID, username, group string) error {
		return b.add(ctx, member{poolID, username, group})
	})
	if err != nil {
		return err
	}
	return b.flush(ctx)
}

var codeKind = kind[storage.Code]{
	key: func(cd storage.Code) string { return cd.PoolID + "/" + cd.Username + "/" + cd.Purpose },
	find: func(ctx context.Context, to storage.Storage, cd storage.Code) (bool, string, error) {
		got, err := to.GetCode(ctx, cd.PoolID, cd.Username, cd.Purpose)
		return lookup(cd, got, err)
	},
	// PutCode replaces; find has made sure there is nothing to replace.
	create: func(ctx context.Context, to storage.Storage, cd storage.Code) error { return to.PutCode(ctx, cd) },
}

func (c *copier) copyCodes(ctx context.Context) error {
	b := newBatcher(c, codeKind)
	if err := c.from.EachCode(ctx, func(cd storage.Code) error { return b.add(ctx, cd) }); err != nil {
		return err
	}
	return b.flush(ctx)
}

var familyKind = kind[storage.RefreshFamily]{
	key: func(f storage.RefreshFamily) string { return f.ID },
	find: func(ctx context.Context, to storage.Storage, f storage.RefreshFamily) (bool, string, error) {
		got, err := to.GetRefreshFamily(ctx, f.ID)
		return lookup(f, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, f storage.RefreshFamily) error {
		return to.CreateRefreshFamily(ctx, f)
	},
}

func (c *copier) copyFamilies(ctx context.Context) error {
	b := newBatcher(c, familyKind)
	if err := c.from.EachRefreshFamily(ctx, func(f storage.RefreshFamily) error { return b.add(ctx, f) }); err != nil {
		return err
	}
	return b.flush(ctx)
}

// hashKey names a record stored by a hash: the hash's first bytes, which
// reveal nothing of the value hashed.
func hashKey(h []byte) string {
	return hex.EncodeToString(h[:min(len(h), 8)])
}

var tokenKind = kind[storage.RefreshToken]{
	key: func(t storage.RefreshToken) string { return t.FamilyID + "/" + hashKey(t.Hash) },
	find: func(ctx context.Context, to storage.Storage, t storage.RefreshToken) (bool, string, error) {
		got, err := to.GetRefreshToken(ctx, t.Hash)
		return lookup(t, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, t storage.RefreshToken) error {
		return to.CreateRefreshToken(ctx, t)
	},
}

func (c *copier) copyTokens(ctx context.Context) error {
	b := newBatcher(c, tokenKind)
	if err := c.from.EachRefreshToken(ctx, func(t storage.RefreshToken) error { return b.add(ctx, t) }); err != nil {
		return err
	}
	return b.flush(ctx)
}

var apiKeyKind = kind[storage.APIKey]{
	key: func(k storage.APIKey) string { return k.ID },
	find: func(ctx context.Context, to storage.Storage, k storage.APIKey) (bool, string, error) {
		got, err := to.GetAPIKey(ctx, k.Hash)
		return lookup(k, got, err)
	},
	create: func(ctx context.Context, to storage.Storage, k storage.APIKey) error { return to.CreateAPIKey(ctx, k) },
}

func (c *copier) copyAPIKeys(ctx context.Context) error {
	keys, err := c.from.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	return copyAll(ctx, c, apiKeyKind, keys)
}

// copySecrets copies the named secrets. They are few: both sides' are
// read first, so that a conflict stops Copy before it writes anything.
func (c *copier) copySecrets(ctx context.Context) error {
	have := map[string][]byte{}
	if err := c.toEnum.EachSecret(ctx, func(name string, value []byte) error {
		have[name] = bytes.Clone(value)
		return nil
	}); err != nil {
		return err
	}
	type secret struct {
		name  string
		value []byte
	}
	var missing []secret
	var conflicts []string
	err := c.from.EachSecret(ctx, func(name string, value []byte) error {
		c.cur.Source++
		got, ok := have[name]
		switch why := safeToKeep[name]; {
		case !ok:
			missing = append(missing, secret{name, bytes.Clone(value)})
		case bytes.Equal(got, value):
			c.cur.Present++
		case why != "":
			c.cur.Kept++
			c.report.Notes = append(c.report.Notes, fmt.Sprintf("secret %s: kept the target's different value: %s", name, why))
		default:
			conflicts = append(conflicts, name)
			c.differ(name, "the target holds a different value")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(conflicts) > 0 && !c.opts.DryRun {
		return fmt.Errorf("%w: %s (a server has run on the target already; copy into an empty database)",
			ErrSecretConflict, strings.Join(conflicts, ", "))
	}
	for _, s := range missing {
		if !c.opts.DryRun {
			got, err := c.to.GetOrCreateSecret(ctx, s.name, func() ([]byte, error) { return s.value, nil })
			if err != nil {
				return err
			}
			if !bytes.Equal(got, s.value) {
				return fmt.Errorf("%w: %s (created in the target during the copy)", ErrSecretConflict, s.name)
			}
		}
		c.cur.Copied++
	}
	return nil
}
