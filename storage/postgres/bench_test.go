package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/storage"
)

// The benchmarks measure the operations storage/sqlite's do, on the same
// fixture, shaped like what the server stores under bench/loadgen: a pool
// signing in by email, an app client with the usual flows, a confirmed
// user with sub, email and email_verified, one sign-in (refresh family
// and token), two groups, an authorization code and a hosted-UI session.
// Each runs on a fresh database of the machine's PostgreSQL, over TCP
// on 127.0.0.1. The CPU metrics count this process only: the server's
// share of the work is in ns/op.
var (
	benchCreated = time.UnixMicro(1_900_000_000_000_000).UTC()
	benchPool    = storage.Pool{ID: testPool.ID, Name: testPool.Name, CreatedAt: benchCreated, UpdatedAt: benchCreated,
		Settings: storage.PoolSettings{
			UsernameAttributes:     []string{"email"},
			AutoVerifiedAttributes: []string{"email"},
			PasswordPolicy: storage.PasswordPolicy{MinimumLength: 8, RequireUppercase: true, RequireLowercase: true,
				RequireNumbers: true, RequireSymbols: true, TemporaryPasswordValidityDays: 7},
		}}
	benchClient = storage.Client{ClientID: "3n4b5urk1ft4fl3mg5e62d9ado", PoolID: testPool.ID, Name: "web",
		CreatedAt: benchCreated, UpdatedAt: benchCreated,
		Settings: storage.ClientSettings{
			ExplicitAuthFlows:       []string{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
			AccessTokenValidity:     60,
			IDTokenValidity:         60,
			RefreshTokenValidity:    30,
			TokenValidityUnits:      storage.TokenValidityUnits{AccessToken: "minutes", IDToken: "minutes", RefreshToken: "days"},
			AuthSessionValidity:     3,
			EnableTokenRevocation:   true,
			RefreshTokenRotation:    true,
			RetryGracePeriodSeconds: 10,
		}}
	benchUser = storage.User{
		PoolID: testPool.ID, Username: "7d9a1c2e-0b7f-4a8e-9c61-3f2b8e4d5a10", Sub: "7d9a1c2e-0b7f-4a8e-9c61-3f2b8e4d5a10",
		Email: "lg-120000.000-001@example.com",
		Attributes: map[string]string{"sub": "7d9a1c2e-0b7f-4a8e-9c61-3f2b8e4d5a10",
			"email": "lg-120000.000-001@example.com", "email_verified": "true"},
		Status: storage.StatusConfirmed, Enabled: true,
		SRPSalt: make([]byte, 16), SRPVerifier: make([]byte, 384),
		CreatedAt: benchCreated, UpdatedAt: benchCreated,
	}
	benchFamily = storage.RefreshFamily{ID: "bench-family", PoolID: testPool.ID, ClientID: benchClient.ClientID,
		Username: benchUser.Username, EventID: "b6c3b0f2-3d1e-4b8c-9a57-2f0e1d4c6b8a", Scope: "aws.cognito.signin.user.admin",
		AuthTime: benchCreated, CreatedAt: benchCreated, ExpiresAt: benchCreated.Add(30 * 24 * time.Hour)}
	benchToken = storage.RefreshToken{Hash: sha256Of("bench-token"), FamilyID: benchFamily.ID, PoolID: testPool.ID,
		ClientID: benchClient.ClientID, CreatedAt: benchCreated, ExpiresAt: benchFamily.ExpiresAt}
	benchAuthCode = storage.AuthCode{Hash: sha256Of("bench-code"), PoolID: testPool.ID, ClientID: benchClient.ClientID,
		Username: benchUser.Username, RedirectURI: "https://app.example.com/callback", Scope: "openid email",
		Nonce: "n-0S6_WzA2Mj", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		AuthTime: benchCreated, CreatedAt: benchCreated, ExpiresAt: benchCreated.Add(5 * time.Minute)}
	benchSession = storage.LoginSession{Hash: sha256Of("bench-session"), PoolID: testPool.ID, Username: benchUser.Username,
		AuthTime: benchCreated, CreatedAt: benchCreated, ExpiresAt: benchCreated.Add(time.Hour)}
)

func sha256Of(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// benchStore returns a store on a fresh database holding testPool and
// testUser.
func benchStore(b *testing.B) *Store {
	s := openStore(b, servicetest.Postgres(b), Options{})
	mustDo(b, s.CreatePool(b.Context(), testPool))
	mustDo(b, s.CreateUser(b.Context(), testUser))
	return s
}

// benchFixture returns a store holding the benchmark fixture besides
// testPool and testUser.
func benchFixture(b *testing.B) *Store {
	s := benchStore(b)
	ctx := b.Context()
	mustDo(b, s.UpdatePool(ctx, benchPool.ID, func(storage.Pool) (storage.Pool, error) { return benchPool, nil }))
	mustDo(b, s.CreateClient(ctx, benchClient))
	mustDo(b, s.CreateUser(ctx, benchUser))
	mustDo(b, s.CreateRefreshFamily(ctx, benchFamily))
	mustDo(b, s.CreateRefreshToken(ctx, benchToken))
	for i, name := range []string{"admins", "staff"} {
		p := int64(i)
		mustDo(b, s.CreateGroup(ctx, storage.Group{PoolID: testPool.ID, Name: name, Precedence: &p,
			Description: "the " + name, CreatedAt: benchCreated, UpdatedAt: benchCreated}))
		mustDo(b, s.AddUserToGroup(ctx, testPool.ID, benchUser.Username, name))
	}
	mustDo(b, s.CreateAuthCode(ctx, benchAuthCode))
	mustDo(b, s.CreateLoginSession(ctx, benchSession))
	return s
}

// cpuTime returns the CPU time the process has used, in user space and
// in total (user and system).
func cpuTime() [2]time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return [2]time.Duration{}
	}
	return [2]time.Duration{time.Duration(ru.Utime.Nano()), time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
}

// reportCPU adds user-ns/op and cpu-ns/op metrics (this process's CPU
// time, user and user+system, over b.N), called with cpuTime's value from
// before the loop once the loop is done.
func reportCPU(b *testing.B, start [2]time.Duration) {
	if b.N > 0 {
		end := cpuTime()
		b.ReportMetric(float64(end[0]-start[0])/float64(b.N), "user-ns/op")
		b.ReportMetric(float64(end[1]-start[1])/float64(b.N), "cpu-ns/op")
	}
}

// benchLoop runs op in a loop on s.
func benchLoop(b *testing.B, s *Store, op func(ctx context.Context, s *Store, i uint64) error) {
	ctx := b.Context()
	b.ReportAllocs()
	start := cpuTime()
	var i uint64
	for b.Loop() {
		i++
		if err := op(ctx, s, i); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// benchRead runs get in a loop on a store holding the fixture.
func benchRead[T any](b *testing.B, get func(ctx context.Context, s *Store) (T, error)) {
	benchLoop(b, benchFixture(b), func(ctx context.Context, s *Store, _ uint64) error {
		_, err := get(ctx, s)
		return err
	})
}

// BenchmarkGetUser reads testUser, who has one attribute.
func BenchmarkGetUser(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *Store) (storage.User, error) {
		return s.GetUser(ctx, testUser.PoolID, testUser.Username)
	})
}

// BenchmarkGetUserBench reads benchUser, with the attributes and SRP
// verifier a signed-up user has.
func BenchmarkGetUserBench(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *Store) (storage.User, error) {
		return s.GetUser(ctx, benchUser.PoolID, benchUser.Username)
	})
}

// BenchmarkGetUserParallel reads benchUser from GOMAXPROCS goroutines at
// once, through the pool's connections.
func BenchmarkGetUserParallel(b *testing.B) {
	s := benchFixture(b)
	ctx := b.Context()
	b.ReportAllocs()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.GetUser(ctx, benchUser.PoolID, benchUser.Username); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportCPU(b, start)
}

// BenchmarkGetUserAfterWrite reads benchUser after each commit of another
// connection, as a node does when others write between its requests;
// "write" is that commit alone.
func BenchmarkGetUserAfterWrite(b *testing.B) {
	s := benchFixture(b)
	ctx := b.Context()
	other, err := s.pool.Acquire(ctx)
	mustDo(b, err)
	b.Cleanup(other.Release)
	write := func() error {
		_, err := other.Exec(ctx, `UPDATE refresh_tokens SET rotated_at = rotated_at + 1 WHERE hash = $1`, benchToken.Hash)
		return err
	}
	for _, read := range []bool{false, true} {
		name := "write"
		if read {
			name = "write+read"
		}
		b.Run(name, func(b *testing.B) {
			benchLoop(b, s, func(ctx context.Context, s *Store, _ uint64) error {
				if err := write(); err != nil || !read {
					return err
				}
				_, err := s.GetUser(ctx, benchUser.PoolID, benchUser.Username)
				return err
			})
		})
	}
}

func BenchmarkGetUserByEmail(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *Store) (storage.User, error) {
		return s.GetUserByEmail(ctx, benchUser.PoolID, benchUser.Email)
	})
}

func BenchmarkGetRefreshFamily(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *Store) (storage.RefreshFamily, error) {
		return s.GetRefreshFamily(ctx, benchFamily.ID)
	})
}

func BenchmarkGetPool(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *Store) (storage.Pool, error) {
		return s.GetPool(ctx, benchPool.ID)
	})
}

func BenchmarkGetClient(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *Store) (storage.Client, error) {
		return s.GetClient(ctx, benchClient.ClientID)
	})
}

func BenchmarkGetRefreshToken(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *Store) (storage.RefreshToken, error) {
		return s.GetRefreshToken(ctx, benchToken.Hash)
	})
}

func BenchmarkListGroupsForUser(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *Store) ([]storage.Group, error) {
		return s.ListGroupsForUser(ctx, benchUser.PoolID, benchUser.Username)
	})
}

func BenchmarkGetAuthCode(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *Store) (storage.AuthCode, error) {
		return s.GetAuthCode(ctx, benchAuthCode.Hash)
	})
}

func BenchmarkGetLoginSession(b *testing.B) {
	benchRead(b, func(ctx context.Context, s *Store) (storage.LoginSession, error) {
		return s.GetLoginSession(ctx, benchSession.Hash)
	})
}

// BenchmarkUpdateUser measures a read-modify-write transaction: begin,
// the locking read, the write, commit.
func BenchmarkUpdateUser(b *testing.B) {
	benchLoop(b, benchStore(b), func(ctx context.Context, s *Store, _ uint64) error {
		return s.UpdateUser(ctx, testUser.PoolID, testUser.Username, func(u storage.User) (storage.User, error) {
			u.UpdatedAt = u.UpdatedAt.Add(time.Microsecond)
			return u, nil
		})
	})
}

// BenchmarkUpdateUserContended runs UpdateUser on one user from
// GOMAXPROCS goroutines at once: the row lock serializes them.
func BenchmarkUpdateUserContended(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	b.ReportAllocs()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := s.UpdateUser(ctx, testUser.PoolID, testUser.Username, func(u storage.User) (storage.User, error) {
				u.UpdatedAt = u.UpdatedAt.Add(time.Microsecond)
				return u, nil
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportCPU(b, start)
}

// BenchmarkCreateRefreshToken measures an autocommit insert.
func BenchmarkCreateRefreshToken(b *testing.B) {
	s := benchStore(b)
	f := storage.RefreshFamily{ID: "family-1", PoolID: testUser.PoolID, ClientID: "client-1", Username: testUser.Username,
		ExpiresAt: time.Now().Add(time.Hour)}
	mustDo(b, s.CreateRefreshFamily(b.Context(), f))
	benchLoop(b, s, func(ctx context.Context, s *Store, i uint64) error {
		hash := sha256.Sum256(binary.BigEndian.AppendUint64(nil, i))
		return s.CreateRefreshToken(ctx, storage.RefreshToken{
			Hash: hash[:], FamilyID: f.ID, PoolID: f.PoolID, ClientID: f.ClientID,
			CreatedAt: time.Now(), ExpiresAt: f.ExpiresAt,
		})
	})
}

// BenchmarkSignIn measures what a sign-in writes: a refresh family and
// its first token in one Atomic.
func BenchmarkSignIn(b *testing.B) {
	benchLoop(b, benchFixture(b), func(ctx context.Context, s *Store, i uint64) error {
		// IDs are text here: no zero bytes.
		id := "family-" + strconv.FormatUint(i, 10)
		hash := sha256.Sum256([]byte(id))
		return s.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
			f := benchFamily
			f.ID = id
			if err := tx.CreateRefreshFamily(ctx, f); err != nil {
				return err
			}
			t := benchToken
			t.Hash, t.FamilyID = hash[:], f.ID
			return tx.CreateRefreshToken(ctx, t)
		})
	})
}

func BenchmarkUpdateRefreshToken(b *testing.B) {
	benchLoop(b, benchFixture(b), func(ctx context.Context, s *Store, _ uint64) error {
		return s.UpdateRefreshToken(ctx, benchToken.Hash, func(t storage.RefreshToken) (storage.RefreshToken, error) {
			t.RotatedAt = time.Now()
			return t, nil
		})
	})
}

func BenchmarkUpdateRefreshFamily(b *testing.B) {
	benchLoop(b, benchFixture(b), func(ctx context.Context, s *Store, _ uint64) error {
		return s.UpdateRefreshFamily(ctx, benchFamily.ID, func(f storage.RefreshFamily) (storage.RefreshFamily, error) {
			f.AuthTime = time.Now()
			return f, nil
		})
	})
}

func BenchmarkUpdateAuthCode(b *testing.B) {
	benchLoop(b, benchFixture(b), func(ctx context.Context, s *Store, _ uint64) error {
		return s.UpdateAuthCode(ctx, benchAuthCode.Hash, func(c storage.AuthCode) (storage.AuthCode, error) {
			c.RedeemedAt, c.FamilyID = time.Now(), benchFamily.ID
			return c, nil
		})
	})
}

func BenchmarkAddMessage(b *testing.B) {
	benchLoop(b, benchFixture(b), func(ctx context.Context, s *Store, _ uint64) error {
		return s.AddMessage(ctx, storage.Message{PoolID: testPool.ID, Username: benchUser.Username,
			Destination: benchUser.Email, Kind: "signup", Code: "123456", CreatedAt: time.Now()})
	})
}

func BenchmarkPutCode(b *testing.B) {
	benchLoop(b, benchFixture(b), func(ctx context.Context, s *Store, _ uint64) error {
		return s.PutCode(ctx, storage.Code{PoolID: testPool.ID, Username: benchUser.Username, Purpose: "signup",
			Hash: benchToken.Hash, Value: benchUser.Email, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	})
}
