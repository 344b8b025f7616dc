// Package storage defines the persistence contract of Cognate's user pool.
//
// One interface, several backends (storage/sqlite, storage/postgres),
// and one conformance suite (storage/storagetest) that every backend runs.
// Callers never see SQL: they get typed records, sentinel errors and
// updater closures that give compare-and-swap semantics per record, plus
// Atomic for the few operations that must change several records at once.
package storage

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors every backend returns (wrapped or not) so callers can
// branch with errors.Is.
var (
	ErrNotFound      = errors.New("storage: not found")
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrUnavailable means the database could not be reached or the
	// connection was lost before the operation committed: nothing was
	// written, and the same call may succeed if retried later. The HTTP
	// layers answer it with a retryable error (503 with Retry-After).
	ErrUnavailable = errors.New("storage: unavailable")
	// ErrInvalidValue means a value cannot be stored as given, such as a
	// string with a NUL character or invalid UTF-8, which PostgreSQL's
	// text refuses: the request is at fault, and nothing was written.
	ErrInvalidValue = errors.New("storage: value cannot be stored")
)

// Storage is the whole persistence contract: one interface per kind of
// record, embedded, so that a consumer that needs a few methods takes the
// narrow one it uses (keys takes SigningKeys, events API keys APIKeys)
// while backends implement, and the conformance suite tests, the whole.
//
// Every method is atomic on its own. Update* methods read the record,
// call the updater with a copy and write back what it returns; an updater
// error aborts the update and is returned unchanged, and an updater may
// not change the record's key. Updaters may run more than once: what they
// capture must be overwritten on every run. Creating a record whose parent
// (pool, user, family) is missing fails with ErrNotFound. Times round-trip
// at microsecond precision in UTC; maps and slices may come back nil
// where empty.
type Storage interface {
	// Atomic runs fn with a Storage whose operations commit together or not
	// at all. fn must use only the Storage it is given. Nested calls to
	// Atomic on that Storage run in the same transaction.
	Atomic(ctx context.Context, fn func(ctx context.Context, tx Storage) error) error

	Pools
	Clients
	Users
	Groups
	Codes
	Messages
	Attempts
	Refresh
	OAuth
	SigningKeys
	Secrets
	APIKeys
	OneTimeClaims
	RateLimits
	IdentityProviders
	WebAuthnCredentials
	Devices
	PasswordHashes
	ImportJobs

	// GarbageCollect deletes codes, authorization codes, login sessions,
	// refresh tokens and families and attempt counters whose ExpiresAt is
	// before now (with the tokens of expired families), one-time claims
	// that expired before now, rate-limit buckets full again by now, and
	// messages done more than MessageRetention before now.
	GarbageCollect(ctx context.Context, now time.Time) (GCResult, error)

	Close() error
}

// Pools are the user pools.
type Pools interface {
	CreatePool(ctx context.Context, p Pool) error
	GetPool(ctx context.Context, id string) (Pool, error)
	ListPools(ctx context.Context) ([]Pool, error)
	UpdatePool(ctx context.Context, id string, fn func(Pool) (Pool, error)) error
}

// Clients are the pools' app clients.
type Clients interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, clientID string) (Client, error)
	ListClients(ctx context.Context, poolID string) ([]Client, error)
	UpdateClient(ctx context.Context, clientID string, fn func(Client) (Client, error)) error
}

// Users are the pools' users.
type Users interface {
	// CreateUser fails with ErrAlreadyExists when the username, or the
	// email alias (User.Email, when set), is taken in the pool.
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, poolID, username string) (User, error)
	// GetUserByEmail finds the user whose email alias equals email
	// (compared after lower-casing).
	GetUserByEmail(ctx context.Context, poolID, email string) (User, error)
	GetUserBySub(ctx context.Context, poolID, sub string) (User, error)
	// ListUsers returns users ordered by username, starting after the
	// given username (empty for the first page), at most limit of them
	// (limit <= 0: all).
	ListUsers(ctx context.Context, poolID, after string, limit int) ([]User, error)
	// UpdateUser fails with ErrAlreadyExists when the new email alias is
	// taken by another user.
	UpdateUser(ctx context.Context, poolID, username string, fn func(User) (User, error)) error
	// DeleteUser removes the user with its group memberships, codes,
	// authorization codes, login sessions, refresh families, refresh
	// tokens and devices.
	DeleteUser(ctx context.Context, poolID, username string) error
}

// Groups are the pools' groups and their members.
type Groups interface {
	CreateGroup(ctx context.Context, g Group) error
	GetGroup(ctx context.Context, poolID, name string) (Group, error)
	ListGroups(ctx context.Context, poolID string) ([]Group, error)
	// AddUserToGroup is idempotent.
	AddUserToGroup(ctx context.Context, poolID, username, group string) error
	// RemoveUserFromGroup is idempotent.
	RemoveUserFromGroup(ctx context.Context, poolID, username, group string) error
	// ListGroupsForUser returns the user's groups ordered by precedence
	// (lowest first, groups without one last), then name.
	ListGroupsForUser(ctx context.Context, poolID, username string) ([]Group, error)
}

// Codes are one-time codes, by user and purpose.
type Codes interface {
	// PutCode stores the one live code of its (pool, user, purpose),
	// replacing any earlier one.
	PutCode(ctx context.Context, c Code) error
	GetCode(ctx context.Context, poolID, username, purpose string) (Code, error)
	UpdateCode(ctx context.Context, poolID, username, purpose string, fn func(Code) (Code, error)) error
	DeleteCode(ctx context.Context, poolID, username, purpose string) error
}

// Messages are the queue of codes to deliver (and the development
// outbox).
type Messages interface {
	// AddMessage queues a message (the store assigns its ID).
	AddMessage(ctx context.Context, m Message) error
	// ListMessages returns the newest messages first, at most limit.
	ListMessages(ctx context.Context, limit int) ([]Message, error)
	// ClaimMessages returns up to limit waiting messages (zero DoneAt)
	// whose NextAttemptAt is not after now, oldest first, and moves their
	// NextAttemptAt to now+lease in the same step, so that concurrent
	// claimers (other dispatchers, other nodes) never get the same message
	// until the lease runs out.
	ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Message, error)
	// UpdateMessage is the updater of a message by ID.
	UpdateMessage(ctx context.Context, id int64, fn func(Message) (Message, error)) error
}

// Attempts are the counters of failed guesses.
type Attempts interface {
	// GetAttempts returns the attempt counter under key.
	GetAttempts(ctx context.Context, poolID, key string) (AttemptCount, error)
	// UpdateAttempts is the updater of an attempt counter, creating it on
	// first use: fn gets AttemptCount{PoolID, Key} when there is none. A
	// returned record with a zero ExpiresAt is deleted (or not created).
	// A missing pool is ErrNotFound.
	UpdateAttempts(ctx context.Context, poolID, key string, fn func(AttemptCount) (AttemptCount, error)) error
}

// Refresh are sign-ins (refresh families) and their refresh tokens.
type Refresh interface {
	CreateRefreshFamily(ctx context.Context, f RefreshFamily) error
	GetRefreshFamily(ctx context.Context, id string) (RefreshFamily, error)
	UpdateRefreshFamily(ctx context.Context, id string, fn func(RefreshFamily) (RefreshFamily, error)) error
	// RevokeUserRefreshFamilies revokes every not-yet-revoked family of the
	// user at once (global sign-out) and returns how many it revoked.
	RevokeUserRefreshFamilies(ctx context.Context, poolID, username string, at time.Time) (int, error)

	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// GetRefreshToken looks a token up by the hash of its value.
	GetRefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)
	UpdateRefreshToken(ctx context.Context, hash []byte, fn func(RefreshToken) (RefreshToken, error)) error
}

// OAuth are authorization codes and hosted-UI sessions.
type OAuth interface {
	// CreateAuthCode stores an OAuth authorization code by its hash.
	CreateAuthCode(ctx context.Context, c AuthCode) error
	GetAuthCode(ctx context.Context, hash []byte) (AuthCode, error)
	UpdateAuthCode(ctx context.Context, hash []byte, fn func(AuthCode) (AuthCode, error)) error

	// CreateLoginSession stores a hosted-UI browser session by the hash of
	// its cookie value.
	CreateLoginSession(ctx context.Context, s LoginSession) error
	GetLoginSession(ctx context.Context, hash []byte) (LoginSession, error)
	// DeleteLoginSession fails with ErrNotFound for an unknown hash.
	DeleteLoginSession(ctx context.Context, hash []byte) error
}

// SigningKeys are the pools' token signing keys.
type SigningKeys interface {
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// AddMissingSigningKeys stores, in one step, each of keys whose use
	// its pool has no key of yet, and returns how many it stored: of
	// concurrent callers (other nodes starting at once) one provides each
	// use's first key.
	AddMissingSigningKeys(ctx context.Context, keys []SigningKey) (int, error)
	// ListSigningKeys returns the pool's keys, newest first.
	ListSigningKeys(ctx context.Context, poolID string) ([]SigningKey, error)
}

// Secrets are the server's own named secrets.
type Secrets interface {
	// GetOrCreateSecret returns the named server secret, storing the value
	// from gen the first time. Concurrent callers all get the same value.
	GetOrCreateSecret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error)
}

// APIKeys are the events API keys.
type APIKeys interface {
	// CreateAPIKey stores an events API key by the hash of its value; a
	// taken id or hash is ErrAlreadyExists.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// GetAPIKey looks a key up by the hash of its value. Expired keys are
	// returned too: callers decide.
	GetAPIKey(ctx context.Context, hash []byte) (APIKey, error)
	// ListAPIKeys returns every key, oldest first.
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	// DeleteAPIKey fails with ErrNotFound for an unknown id.
	DeleteAPIKey(ctx context.Context, id string) error
}

// Enumerator walks every record of the kinds that Storage looks up only
// by key, so that a tool can copy a whole installation (storage/transfer)
// without loading it into memory. It is optional: a backend implements it
// next to Storage, and callers type-assert for it.
//
// Each method calls fn once per record, in the order of the record's key,
// streaming them rather than loading them all first, and stops at fn's
// first error, which it returns unchanged. fn must not write to the store
// being walked: a backend may hold a read cursor while fn runs. Records
// read back as their Get method returns them.
type Enumerator interface {
	// EachGroupMember walks the group memberships, ordered by pool,
	// username and group name.
	EachGroupMember(ctx context.Context, fn func(poolID, username, group string) error) error
	// EachRefreshFamily walks the refresh families, ordered by ID.
	EachRefreshFamily(ctx context.Context, fn func(RefreshFamily) error) error
	// EachRefreshToken walks the refresh tokens, ordered by hash.
	EachRefreshToken(ctx context.Context, fn func(RefreshToken) error) error
	// EachCode walks the one-time codes, ordered by pool, username and
	// purpose.
	EachCode(ctx context.Context, fn func(Code) error) error
	// EachSecret walks the server's named secrets (GetOrCreateSecret),
	// ordered by name.
	EachSecret(ctx context.Context, fn func(name string, value []byte) error) error
}

// OneTimeClaims are keys that can be claimed once, by one caller among
// every connection and node sharing the store: what makes a one-time
// secret (an SRP challenge's answer) single-use across nodes.
type OneTimeClaims interface {
	// ClaimOnce records key as claimed and reports true, or reports false
	// when it is claimed already: of any number of concurrent callers
	// exactly one gets true. A claim holds at least until expiresAt;
	// GarbageCollect removes it after that, when the key may be claimed
	// again, so expiresAt must outlast whatever the key guards.
	ClaimOnce(ctx context.Context, key []byte, expiresAt time.Time) (bool, error)
}

// RateLimits are token buckets shared by every node on the store.
type RateLimits interface {
	// TakeRateToken takes one token from key's bucket, which holds burst
	// tokens and refills at rate tokens a second, in one atomic step: of
	// concurrent takes from a bucket with n tokens, exactly n succeed.
	// When the bucket is empty it reports false and how long until it
	// holds a token again. A bucket that has not been taken from is
	// full; rate must be positive and burst at least 1. now is the
	// caller's clock: nodes whose clocks differ by d may let about
	// d*rate extra tokens through.
	TakeRateToken(ctx context.Context, key string, now time.Time, rate float64, burst int) (ok bool, retryAfter time.Duration, err error)
}

// IdentityProviders are the pools' external identity providers and the
// links of their users to pool users.
type IdentityProviders interface {
	// CreateIdentityProvider fails with ErrAlreadyExists when the pool
	// has a provider of that name.
	CreateIdentityProvider(ctx context.Context, p IdentityProvider) error
	GetIdentityProvider(ctx context.Context, poolID, name string) (IdentityProvider, error)
	// ListIdentityProviders returns the pool's providers ordered by name,
	// starting after the given name (empty for the first page), at most
	// limit of them (limit <= 0: all).
	ListIdentityProviders(ctx context.Context, poolID, after string, limit int) ([]IdentityProvider, error)
	UpdateIdentityProvider(ctx context.Context, poolID, name string, fn func(IdentityProvider) (IdentityProvider, error)) error
	// DeleteIdentityProvider removes the provider and the links of its
	// users (the users stay).
	DeleteIdentityProvider(ctx context.Context, poolID, name string) error

	// CreateFederatedLink fails with ErrAlreadyExists when the provider's
	// subject is linked already, and with ErrNotFound when the user is
	// missing. Deleting the user deletes its links.
	CreateFederatedLink(ctx context.Context, l FederatedLink) error
	GetFederatedLink(ctx context.Context, poolID, providerName, subject string) (FederatedLink, error)
	// ListFederatedLinks returns the user's links ordered by provider
	// name and subject.
	ListFederatedLinks(ctx context.Context, poolID, username string) ([]FederatedLink, error)
	// DeleteFederatedLink fails with ErrNotFound for an unknown link.
	DeleteFederatedLink(ctx context.Context, poolID, providerName, subject string) error
}

// WebAuthnCredentials are the users' passkeys, keyed by pool and
// credential id (unique in a pool: an authenticator's id names one
// credential), deleted with their user.
type WebAuthnCredentials interface {
	// CreateWebAuthnCredential stores a passkey: a credential id taken in
	// the pool is ErrAlreadyExists, a missing user ErrNotFound.
	CreateWebAuthnCredential(ctx context.Context, c WebAuthnCredential) error
	GetWebAuthnCredential(ctx context.Context, poolID string, id []byte) (WebAuthnCredential, error)
	// ListWebAuthnCredentials returns the user's passkeys ordered by
	// credential id, starting after the given id (nil for the first
	// page), at most limit of them (limit <= 0: all).
	ListWebAuthnCredentials(ctx context.Context, poolID, username string, after []byte, limit int) ([]WebAuthnCredential, error)
	// UpdateWebAuthnCredential is the updater of a passkey (its sign count
	// after a sign-in): a compare-and-swap, so of concurrent sign-ins
	// that each need a count above the stored one, one wins.
	UpdateWebAuthnCredential(ctx context.Context, poolID string, id []byte, fn func(WebAuthnCredential) (WebAuthnCredential, error)) error
	// DeleteWebAuthnCredential fails with ErrNotFound for an unknown id.
	DeleteWebAuthnCredential(ctx context.Context, poolID string, id []byte) error
}

// Devices are the devices users confirmed (Cognito's device tracking),
// by pool and device key.
type Devices interface {
	// CreateDevice stores a device; a missing user is ErrNotFound and a
	// device key taken in the pool is ErrAlreadyExists.
	CreateDevice(ctx context.Context, d Device) error
	GetDevice(ctx context.Context, poolID, key string) (Device, error)
	// ListDevices returns the user's devices ordered by key, starting
	// after the given key (empty for the first page), at most limit of
	// them (limit <= 0: all).
	ListDevices(ctx context.Context, poolID, username, after string, limit int) ([]Device, error)
	// UpdateDevice is the updater of a device; it may not change the
	// device's pool, key or user.
	UpdateDevice(ctx context.Context, poolID, key string, fn func(Device) (Device, error)) error
	// DeleteDevice fails with ErrNotFound for an unknown key.
	DeleteDevice(ctx context.Context, poolID, key string) error
}

// PasswordHashes are password hashes imported from another system
// (`cognate admin import-users`), kept until the user's first password
// sign-in replaces them with an SRP verifier.
type PasswordHashes interface {
	// PutPasswordHash stores the user's imported hash, replacing any
	// earlier one. A missing user is ErrNotFound; DeleteUser removes the
	// hash with the user.
	PutPasswordHash(ctx context.Context, poolID, username, hash string) error
	GetPasswordHash(ctx context.Context, poolID, username string) (string, error)
	// DeletePasswordHash fails with ErrNotFound when the user has none.
	DeletePasswordHash(ctx context.Context, poolID, username string) error
}

// ImportJobs are the pools' user import jobs, their uploaded files and
// the errors of their rows.
type ImportJobs interface {
	// CreateImportJob fails with ErrAlreadyExists for a taken JobID in
	// the pool and ErrNotFound for a missing pool.
	CreateImportJob(ctx context.Context, j ImportJob) error
	GetImportJob(ctx context.Context, poolID, jobID string) (ImportJob, error)
	// ListImportJobs returns the pool's jobs ordered by JobID, starting
	// after the given JobID, at most limit of them (limit <= 0: all).
	ListImportJobs(ctx context.Context, poolID, after string, limit int) ([]ImportJob, error)
	UpdateImportJob(ctx context.Context, poolID, jobID string, fn func(ImportJob) (ImportJob, error)) error
	// ListImportJobsToRun returns the jobs of every pool whose status is
	// Pending, InProgress or Stopping and whose LeaseUntil is before now.
	ListImportJobsToRun(ctx context.Context, now time.Time) ([]ImportJob, error)

	// PutImportFile stores the job's uploaded file, replacing any
	// earlier one; a missing job is ErrNotFound.
	PutImportFile(ctx context.Context, poolID, jobID string, data []byte) error
	// GetImportFile is ErrNotFound when the job has no file.
	GetImportFile(ctx context.Context, poolID, jobID string) ([]byte, error)
	// DeleteImportFile is idempotent.
	DeleteImportFile(ctx context.Context, poolID, jobID string) error

	// AddImportRowError records a row's error; a row recorded already
	// keeps its first error. A missing job is ErrNotFound.
	AddImportRowError(ctx context.Context, e ImportRowError) error
	// ListImportRowErrors returns the job's row errors ordered by Row,
	// starting after afterRow, at most limit of them (limit <= 0: all).
	ListImportRowErrors(ctx context.Context, poolID, jobID string, afterRow int64, limit int) ([]ImportRowError, error)
}

// MessageRetention is how long a done message stays listed (the
// development outbox shows it).
const MessageRetention = 7 * 24 * time.Hour

// GCResult counts what GarbageCollect removed.
type GCResult struct {
	Attempts        int64
	Messages        int64
	Codes           int64
	AuthCodes       int64
	LoginSessions   int64
	RefreshTokens   int64
	RefreshFamilies int64
	Claims          int64
	RateLimits      int64
}
