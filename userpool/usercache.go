package userpool

import (
	"context"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// userCacheTTL bounds how stale another node's user change can look
// here; changes made through this Service are seen at once.
const userCacheTTL = 2 * time.Second

// cachingStore is the Storage the Service uses: every user write through
// it drops that user's cached record — inside a transaction, again after
// the commit, so a reader between the write and the commit cannot leave
// the old record cached.
type cachingStore struct {
	storage.Storage
	users   *ttlCache[string, storage.User]
	pending *[]string // keys written in the current transaction
}

func userKey(poolID, username string) string { return poolID + "\x00" + username }

func (c cachingStore) changed(poolID, username string) {
	k := userKey(poolID, username)
	c.users.drop(k)
	if c.pending != nil {
		*c.pending = append(*c.pending, k)
	}
}

// Atomic wraps the transaction's Storage the same way.
func (c cachingStore) Atomic(ctx context.Context, fn func(ctx context.Context, tx storage.Storage) error) error {
	if c.pending != nil { // nested: the outer call drops after its commit
		return c.Storage.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
			return fn(ctx, cachingStore{Storage: tx, users: c.users, pending: c.pending})
		})
	}
	var keys []string
	err := c.Storage.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		return fn(ctx, cachingStore{Storage: tx, users: c.users, pending: &keys})
	})
	for _, k := range keys {
		c.users.drop(k)
	}
	return err
}

// CreateUser implements storage.Storage.
func (c cachingStore) CreateUser(ctx context.Context, u storage.User) error {
	defer c.changed(u.PoolID, u.Username)
	return c.Storage.CreateUser(ctx, u)
}

// UpdateUser implements storage.Storage.
func (c cachingStore) UpdateUser(ctx context.Context, poolID, username string, fn func(storage.User) (storage.User, error)) error {
	defer c.changed(poolID, username)
	return c.Storage.UpdateUser(ctx, poolID, username, fn)
}

// DeleteUser implements storage.Storage.
func (c cachingStore) DeleteUser(ctx context.Context, poolID, username string) error {
	defer c.changed(poolID, username)
	return c.Storage.DeleteUser(ctx, poolID, username)
}

// cachedUser reads a user for token-authorised operations, from the cache
// when fresh.
func (s *Service) cachedUser(ctx context.Context, poolID, username string) (storage.User, error) {
	k := userKey(poolID, username)
	now := s.now()
	if u, ok := s.userCache.get(k, now); ok {
		return u, nil
	}
	u, err := s.store.GetUser(ctx, poolID, username)
	if err == nil {
		s.userCache.put(k, u, now, time.Time{})
	}
	return u, err
}
