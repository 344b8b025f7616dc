package sqlite

import (
	"crypto/sha256"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// benchStore returns a store holding testPool and testUser.
func benchStore(b *testing.B) *Store {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), Options{})
	mustDo(b, err)
	b.Cleanup(func() { s.Close() })
	mustDo(b, s.CreatePool(b.Context(), testPool))
	mustDo(b, s.CreateUser(b.Context(), testUser))
	return s
}

func BenchmarkGetUser(b *testing.B) {
	s := benchStore(b)
	for b.Loop() {
		if _, err := s.GetUser(b.Context(), testUser.PoolID, testUser.Username); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateUser measures a read-modify-write transaction, fsync
// included.
func BenchmarkUpdateUser(b *testing.B) {
	s := benchStore(b)
	for b.Loop() {
		err := s.UpdateUser(b.Context(), testUser.PoolID, testUser.Username, func(u storage.User) (storage.User, error) {
			u.FailedSignIns++
			return u, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateRefreshToken measures an autocommit insert, fsync
// included.
func BenchmarkCreateRefreshToken(b *testing.B) {
	s := benchStore(b)
	f := storage.RefreshFamily{ID: "family-1", PoolID: testUser.PoolID, ClientID: "client-1", Username: testUser.Username,
		ExpiresAt: time.Now().Add(time.Hour)}
	mustDo(b, s.CreateRefreshFamily(b.Context(), f))
	var i uint64
	for b.Loop() {
		i++
		hash := sha256.Sum256(binary.BigEndian.AppendUint64(nil, i))
		err := s.CreateRefreshToken(b.Context(), storage.RefreshToken{
			Hash: hash[:], FamilyID: f.ID, PoolID: f.PoolID, ClientID: f.ClientID,
			CreatedAt: time.Now(), ExpiresAt: f.ExpiresAt,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
