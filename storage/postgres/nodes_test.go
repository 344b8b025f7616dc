package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/postgres"
	"github.com/cognate-auth/cognate/userpool"
)

// Two nodes are two Stores, each with its own connection pool, on one
// database: what two Cognate processes sharing a PostgreSQL server are.

var created = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// twoNodes opens two Stores on one fresh database.
func twoNodes(t *testing.T) (url string, a, b *postgres.Store) {
	t.Helper()
	url = servicetest.Postgres(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(t.Context(), url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return url, open(), open()
}

// race runs each of fns in its own goroutine, all released at once, and
// returns their errors in order.
func race(fns ...func() error) []error {
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// onBoth returns n calls of fn on each node, alternating.
func onBoth(n int, a, b *postgres.Store, fn func(s *postgres.Store, i int) error) []func() error {
	var fns []func() error
	for i := range n {
		fns = append(fns, func() error { return fn(a, i) }, func() error { return fn(b, i) })
	}
	return fns
}

// wins counts nil errors and fails t on an error that is neither nil nor
// lost (the losers' expected error).
func wins(t *testing.T, errs []error, lost error) int {
	t.Helper()
	n := 0
	for _, err := range errs {
		switch {
		case err == nil:
			n++
		case !errors.Is(err, lost):
			t.Errorf("unexpected error: %v", err)
		}
	}
	return n
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seedUser stores a pool and a user in it.
func seedUser(t *testing.T, s storage.Storage) storage.User {
	t.Helper()
	must(t, s.CreatePool(t.Context(), storage.Pool{ID: "pool-1", Name: "p", CreatedAt: created, UpdatedAt: created}))
	u := storage.User{PoolID: "pool-1", Username: "alice", Sub: "sub-alice", Email: "alice@example.com",
		Attributes: map[string]string{"n": "0"}, Status: storage.StatusConfirmed, Enabled: true,
		CreatedAt: created, UpdatedAt: created}
	must(t, s.CreateUser(t.Context(), u))
	return u
}

var errLost = errors.New("lost the race")

func TestNodesUpdateUserLosesNoUpdate(t *testing.T) {
	const perNode = 15
	_, a, b := twoNodes(t)
	u := seedUser(t, a)
	errs := race(onBoth(perNode, a, b, func(s *postgres.Store, _ int) error {
		return s.UpdateUser(t.Context(), u.PoolID, u.Username, func(u storage.User) (storage.User, error) {
			n, err := strconv.Atoi(u.Attributes["n"])
			u.Attributes["n"] = strconv.Itoa(n + 1)
			return u, err
		})
	})...)
	wins(t, errs, nil)
	got, err := b.GetUser(t.Context(), u.PoolID, u.Username)
	must(t, err)
	if got.Attributes["n"] != strconv.Itoa(2*perNode) {
		t.Errorf("counter = %s after %d increments on each node", got.Attributes["n"], perNode)
	}
}

func TestNodesCreateUserOnce(t *testing.T) {
	_, a, b := twoNodes(t)
	seedUser(t, a)
	for i := range 10 {
		name := fmt.Sprintf("bob-%d", i)
		errs := race(onBoth(1, a, b, func(s *postgres.Store, _ int) error {
			return s.CreateUser(t.Context(), storage.User{PoolID: "pool-1", Username: name, Sub: rand.Text(),
				Status: storage.StatusConfirmed, CreatedAt: created, UpdatedAt: created})
		})...)
		if n := wins(t, errs, storage.ErrAlreadyExists); n != 1 {
			t.Errorf("%s: %d creations succeeded, want 1 (errors %v)", name, n, errs)
		}
	}
}

func TestNodesRedeemOnce(t *testing.T) {
	const perNode = 4
	_, a, b := twoNodes(t)
	u := seedUser(t, a)
	ctx := t.Context()
	fam := storage.RefreshFamily{ID: "family-1", PoolID: u.PoolID, ClientID: "client-1", Username: u.Username,
		AuthTime: created, CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
	must(t, a.CreateRefreshFamily(ctx, fam))
	must(t, a.CreateRefreshToken(ctx, storage.RefreshToken{Hash: []byte("token"), FamilyID: fam.ID, PoolID: u.PoolID,
		ClientID: "client-1", CreatedAt: created, ExpiresAt: fam.ExpiresAt}))
	must(t, a.PutCode(ctx, storage.Code{PoolID: u.PoolID, Username: u.Username, Purpose: "signup", Hash: []byte("code"),
		CreatedAt: created, ExpiresAt: created.Add(time.Hour)}))
	must(t, a.CreateAuthCode(ctx, storage.AuthCode{Hash: []byte("auth-code"), PoolID: u.PoolID, ClientID: "client-1",
		Username: u.Username, CreatedAt: created, ExpiresAt: created.Add(time.Hour)}))

	for _, tc := range []struct {
		name   string
		redeem func(s *postgres.Store, i int) error
	}{
		{"UpdateRefreshToken", func(s *postgres.Store, i int) error {
			return s.UpdateRefreshToken(ctx, []byte("token"), func(t storage.RefreshToken) (storage.RefreshToken, error) {
				if !t.RotatedAt.IsZero() {
					return t, errLost
				}
				t.RotatedAt = created.Add(time.Duration(i+1) * time.Second)
				return t, nil
			})
		}},
		{"UpdateCode", func(s *postgres.Store, i int) error {
			return s.UpdateCode(ctx, u.PoolID, u.Username, "signup", func(c storage.Code) (storage.Code, error) {
				if !c.UsedAt.IsZero() {
					return c, errLost
				}
				c.UsedAt = created.Add(time.Duration(i+1) * time.Second)
				return c, nil
			})
		}},
		{"UpdateAuthCode", func(s *postgres.Store, i int) error {
			return s.UpdateAuthCode(ctx, []byte("auth-code"), func(c storage.AuthCode) (storage.AuthCode, error) {
				if !c.RedeemedAt.IsZero() {
					return c, errLost
				}
				c.RedeemedAt, c.FamilyID = created.Add(time.Duration(i+1)*time.Second), "family-"+strconv.Itoa(i)
				return c, nil
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := wins(t, race(onBoth(perNode, a, b, tc.redeem)...), errLost); n != 1 {
				t.Errorf("%d of %d redemptions won, want 1", n, 2*perNode)
			}
		})
	}
}

func TestNodesClaimMessagesOnce(t *testing.T) {
	const messages, claimersPerNode = 60, 3
	_, a, b := twoNodes(t)
	ctx := t.Context()
	for i := range messages {
		must(t, a.AddMessage(ctx, storage.Message{PoolID: "pool-1", Username: "u" + strconv.Itoa(i), Destination: "d",
			Kind: "signup", Code: "c", CreatedAt: created, NextAttemptAt: created}))
	}
	var mu sync.Mutex
	claims := map[int64]int{}
	race(onBoth(claimersPerNode, a, b, func(s *postgres.Store, _ int) error {
		for {
			got, err := s.ClaimMessages(ctx, created.Add(time.Second), time.Hour, 4)
			if err != nil {
				t.Error(err)
				return err
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, m := range got {
				claims[m.ID]++
			}
			mu.Unlock()
		}
	})...)
	if len(claims) != messages {
		t.Errorf("%d messages claimed, want %d", len(claims), messages)
	}
	for id, n := range claims {
		if n != 1 {
			t.Errorf("message %d claimed %d times", id, n)
		}
	}
}

func TestNodesAddMissingSigningKeysOnce(t *testing.T) {
	const perNode = 4
	_, a, b := twoNodes(t)
	seedUser(t, a)
	var mu sync.Mutex
	added := 0
	errs := race(onBoth(perNode, a, b, func(s *postgres.Store, i int) error {
		id := rand.Text()
		n, err := s.AddMissingSigningKeys(t.Context(), []storage.SigningKey{
			{ID: "access-" + id, PoolID: "pool-1", Use: "access", Algorithm: "RS256", PrivateKeyDER: []byte("k"), CreatedAt: created},
			{ID: "id-" + id, PoolID: "pool-1", Use: "id", Algorithm: "RS256", PrivateKeyDER: []byte("k"), CreatedAt: created},
		})
		mu.Lock()
		added += n
		mu.Unlock()
		return err
	})...)
	wins(t, errs, nil)
	keys, err := a.ListSigningKeys(t.Context(), "pool-1")
	must(t, err)
	uses := map[string]int{}
	for _, k := range keys {
		uses[k.Use]++
	}
	if added != 2 || uses["access"] != 1 || uses["id"] != 1 {
		t.Errorf("callers added %d keys, stored per use %v; want one of each", added, uses)
	}
}

func TestNodesGetOrCreateSecretAgree(t *testing.T) {
	const perNode = 6
	_, a, b := twoNodes(t)
	values := make([][]byte, 2*perNode)
	var mu sync.Mutex
	k := 0
	errs := race(onBoth(perNode, a, b, func(s *postgres.Store, _ int) error {
		v, err := s.GetOrCreateSecret(t.Context(), "cookie", func() ([]byte, error) { return []byte(rand.Text()), nil })
		mu.Lock()
		values[k] = v
		k++
		mu.Unlock()
		return err
	})...)
	wins(t, errs, nil)
	for _, v := range values[1:] {
		if string(v) != string(values[0]) {
			t.Fatalf("callers got different secrets: %q", values)
		}
	}
}

func TestNodesUpdateAttemptsCountsEvery(t *testing.T) {
	const perNode = 15
	_, a, b := twoNodes(t)
	seedUser(t, a)
	errs := race(onBoth(perNode, a, b, func(s *postgres.Store, _ int) error {
		return s.UpdateAttempts(t.Context(), "pool-1", "password/alice", func(c storage.AttemptCount) (storage.AttemptCount, error) {
			c.Failures++
			c.ExpiresAt = created.Add(time.Hour)
			return c, nil
		})
	})...)
	wins(t, errs, nil)
	got, err := b.GetAttempts(t.Context(), "pool-1", "password/alice")
	must(t, err)
	if got.Failures != 2*perNode {
		t.Errorf("Failures = %d after %d increments on each node", got.Failures, perNode)
	}
}

// node is a userpool.Service over its own Store, as one Cognate process.
func node(t *testing.T, store storage.Storage, now func() time.Time) *userpool.Service {
	t.Helper()
	svc, err := userpool.New(t.Context(), userpool.Options{Storage: store, Keys: keys.NewManager(store, keys.Options{Now: now}),
		Now: now, IssuerBase: "http://cognate.test"})
	must(t, err)
	return svc
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

const callback = "https://app.example.com/cb"

// domain is a pool and an app client (rotation on, no grace period, the
// code flow allowed) made through node a.
type domain struct {
	a, b           *userpool.Service
	storeA, storeB storage.Storage
	pool, client   string
}

func newDomain(t *testing.T, storeA, storeB storage.Storage, nowA, nowB func() time.Time) domain {
	t.Helper()
	d := domain{a: node(t, storeA, nowA), b: node(t, storeB, nowB), storeA: storeA, storeB: storeB}
	p, err := d.a.CreateUserPool(t.Context(), userpool.CreateUserPoolInput{PoolName: "p",
		UsernameAttributes: []string{"email"}, AutoVerifiedAttributes: []string{"email"}})
	must(t, err)
	c, err := d.a.CreateUserPoolClient(t.Context(), userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: p.UserPool.Id, ClientName: "c",
		RefreshTokenRotation: &userpool.RefreshTokenRotationType{Feature: "ENABLED"},
		ExplicitAuthFlows:    []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		CallbackURLs:         []string{callback}, AllowedOAuthFlows: []string{"code"},
		AllowedOAuthScopes: []string{"openid", "email"}, AllowedOAuthFlowsUserPoolClient: true,
		SupportedIdentityProviders: []string{"COGNITO"},
	}})
	must(t, err)
	d.pool, d.client = p.UserPool.Id, c.UserPoolClient.ClientId
	return d
}

// lastCode is the newest code queued for dest.
func (d domain) lastCode(t *testing.T, dest string) string {
	t.Helper()
	msgs, err := d.storeA.ListMessages(t.Context(), 50)
	must(t, err)
	for _, m := range msgs {
		if m.Destination == dest {
			return m.Code
		}
	}
	t.Fatalf("no code for %s", dest)
	return ""
}

func (d domain) confirmedUser(t *testing.T, email string) {
	t.Helper()
	_, err := d.a.SignUp(t.Context(), userpool.SignUpInput{ClientId: d.client, Username: email, Password: "Passw0rd!"})
	must(t, err)
	_, err = d.a.ConfirmSignUp(t.Context(), userpool.ConfirmSignUpInput{ClientId: d.client, Username: email,
		ConfirmationCode: d.lastCode(t, email)})
	must(t, err)
}

// wantOneWinner fails t unless exactly one of errs is nil and the other
// matches lost.
func wantOneWinner(t *testing.T, what string, errs []error, lost error) {
	t.Helper()
	if n := wins(t, errs, lost); n != 1 {
		t.Errorf("%s: %d of %d won (errors %v), want exactly 1", what, n, len(errs), errs)
	}
}

func TestNodesDomainSignUpOnce(t *testing.T) {
	_, a, b := twoNodes(t)
	d := newDomain(t, a, b, time.Now, time.Now)
	for i := range 5 {
		email := fmt.Sprintf("race-%d@example.com", i)
		signUp := func(svc *userpool.Service) func() error {
			return func() error {
				_, err := svc.SignUp(t.Context(), userpool.SignUpInput{ClientId: d.client, Username: email, Password: "Passw0rd!"})
				return err
			}
		}
		wantOneWinner(t, "SignUp "+email, race(signUp(d.a), signUp(d.b)), userpool.ErrUsernameExists)
	}
}

func TestNodesDomainConfirmCodeOnce(t *testing.T) {
	_, a, b := twoNodes(t)
	d := newDomain(t, a, b, time.Now, time.Now)
	const email = "confirm@example.com"
	_, err := d.a.SignUp(t.Context(), userpool.SignUpInput{ClientId: d.client, Username: email, Password: "Passw0rd!"})
	must(t, err)
	code := d.lastCode(t, email)
	confirm := func(svc *userpool.Service) func() error {
		return func() error {
			_, err := svc.ConfirmSignUp(t.Context(), userpool.ConfirmSignUpInput{ClientId: d.client, Username: email, ConfirmationCode: code})
			return err
		}
	}
	errs := race(confirm(d.a), confirm(d.b))
	wantOneWinner(t, "ConfirmSignUp", errs, userpool.ErrExpiredCode)
}

func TestNodesDomainExchangeCodeOnce(t *testing.T) {
	_, a, b := twoNodes(t)
	d := newDomain(t, a, b, time.Now, time.Now)
	const email = "oauth@example.com"
	d.confirmedUser(t, email)
	u, err := a.GetUserByEmail(t.Context(), d.pool, email)
	must(t, err)
	code, err := d.a.IssueAuthCode(t.Context(), userpool.Authorization{ClientID: d.client, Username: u.Username,
		RedirectURI: callback, Scope: "openid email", AuthTime: time.Now()})
	must(t, err)
	exchange := func(svc *userpool.Service) func() error {
		return func() error {
			_, err := svc.ExchangeCode(t.Context(), d.client, "", code, callback, "")
			return err
		}
	}
	wantOneWinner(t, "ExchangeCode", race(exchange(d.a), exchange(d.b)), userpool.ErrInvalidGrant)
}

// hookStore calls inside from within UpdateRefreshToken's updater, when
// the store holds the token's row lock, and before before
// UpdateRefreshToken, in Atomic's transactions too.
type hookStore struct {
	storage.Storage
	before, inside func()
}

func (h *hookStore) Atomic(ctx context.Context, fn func(ctx context.Context, tx storage.Storage) error) error {
	return h.Storage.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		return fn(ctx, &hookStore{Storage: tx, before: h.before, inside: h.inside})
	})
}

func (h *hookStore) UpdateRefreshToken(ctx context.Context, hash []byte, fn func(storage.RefreshToken) (storage.RefreshToken, error)) error {
	if h.before != nil {
		h.before()
	}
	return h.Storage.UpdateRefreshToken(ctx, hash, func(t storage.RefreshToken) (storage.RefreshToken, error) {
		if h.inside != nil {
			h.inside()
		}
		return fn(t)
	})
}

// TestNodesDomainRotateOnce refreshes one token on both nodes at once,
// the client rotating tokens without a grace period. Whichever node
// locks the token first rotates it; the other waits for that to commit
// and must then see the token retired: a replay, which Cognito answers
// with RefreshTokenReuseException (revoking the sign-in). Had the second
// node not waited, it would have rotated the token too.
//
// Which node wins is fixed, so that the outcome is: node b starts first
// and reads the token, then waits until node a holds its row lock; node
// a, holding it, waits until b queues behind the lock. Node b's clock is
// a second ahead, so the retirement it finds is past the (zero) grace
// period.
func TestNodesDomainRotateOnce(t *testing.T) {
	url, a, b := twoNodes(t)
	now := time.Now().Truncate(time.Second)
	aLocked, bReady := make(chan struct{}), make(chan struct{})
	var onceA, onceB sync.Once
	hookA := &hookStore{Storage: a}
	hookB := &hookStore{Storage: b}
	d := newDomain(t, hookA, hookB, fixedClock(now), fixedClock(now.Add(time.Second)))
	const email = "rotate@example.com"
	d.confirmedUser(t, email)
	out, err := d.a.InitiateAuth(t.Context(), userpool.InitiateAuthInput{ClientId: d.client, AuthFlow: "USER_PASSWORD_AUTH",
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": "Passw0rd!"}})
	must(t, err)
	token := out.AuthenticationResult.RefreshToken

	admin, err := pgx.Connect(t.Context(), url)
	must(t, err)
	t.Cleanup(func() { admin.Close(context.Background()) })
	hookB.before = func() {
		onceB.Do(func() { close(bReady) })
		<-aLocked
	}
	hookA.inside = func() {
		onceA.Do(func() {
			close(aLocked)
			waitForLockWaiter(t, admin)
		})
	}
	refresh := func(svc *userpool.Service) (string, error) {
		r, err := svc.GetTokensFromRefreshToken(t.Context(), userpool.GetTokensFromRefreshTokenInput{ClientId: d.client, RefreshToken: token})
		if err != nil {
			return "", err
		}
		return r.AuthenticationResult.RefreshToken, nil
	}
	var (
		tokenB string
		errB   error
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		tokenB, errB = refresh(d.b)
	}()
	select {
	case <-bReady:
	case <-done:
		t.Fatalf("node b's refresh ended before its transaction: %v", errB)
	}
	tokenA, errA := refresh(d.a)
	<-done
	if errA != nil || tokenA == "" || tokenA == token {
		t.Errorf("node a (first): token %q, err %v; want a new refresh token", tokenA, errA)
	}
	if !errors.Is(errB, userpool.ErrRefreshTokenReuse) || tokenB != "" {
		t.Errorf("node b (second): token %q, err %v; want RefreshTokenReuseException", tokenB, errB)
	}
}

// waitForLockWaiter returns once a session of the database waits for a
// lock.
func waitForLockWaiter(t *testing.T, admin *pgx.Conn) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := admin.QueryRow(context.Background(), `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		if err != nil {
			t.Error(err)
			return
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Error("no session came to wait for the token's lock")
}

// TestNodesDeadlockRetried makes two nodes' transactions lock two users
// in opposite orders. The server breaks the deadlock by aborting one of
// them, which the store runs again: both calls succeed, and each user
// gets both increments.
func TestNodesDeadlockRetried(t *testing.T) {
	_, a, b := twoNodes(t)
	alice := seedUser(t, a)
	bob := alice
	bob.Username, bob.Sub, bob.Email = "bob", "sub-bob", "bob@example.com"
	must(t, a.CreateUser(t.Context(), bob))
	inc := func(ctx context.Context, tx storage.Storage, u storage.User) error {
		return tx.UpdateUser(ctx, u.PoolID, u.Username, func(u storage.User) (storage.User, error) {
			n, err := strconv.Atoi(u.Attributes["n"])
			u.Attributes["n"] = strconv.Itoa(n + 1)
			return u, err
		})
	}
	var (
		holding sync.WaitGroup // both hold their first lock
		runs    sync.Map       // node → runs of its callback
	)
	holding.Add(2)
	lockBoth := func(s *postgres.Store, first, second storage.User) func() error {
		var once sync.Once
		return func() error {
			return s.Atomic(t.Context(), func(ctx context.Context, tx storage.Storage) error {
				n, _ := runs.LoadOrStore(s, new(int))
				*n.(*int)++
				if err := inc(ctx, tx, first); err != nil {
					return err
				}
				once.Do(func() {
					holding.Done()
					holding.Wait()
				})
				return inc(ctx, tx, second)
			})
		}
	}
	errs := race(lockBoth(a, alice, bob), lockBoth(b, bob, alice))
	wins(t, errs, nil)
	total := 0
	runs.Range(func(_, n any) bool {
		total += *n.(*int)
		return true
	})
	if total < 3 {
		t.Errorf("callbacks ran %d times in all, want at least 3 (one retried after the deadlock)", total)
	}
	for _, u := range []storage.User{alice, bob} {
		got, err := a.GetUser(t.Context(), u.PoolID, u.Username)
		must(t, err)
		if got.Attributes["n"] != "2" {
			t.Errorf("%s's counter = %s, want 2", u.Username, got.Attributes["n"])
		}
	}
}
