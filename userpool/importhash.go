package userpool

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/cognate-auth/cognate/passhash"
	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage"
)

// passwordMatches checks a password against the user's SRP verifier or,
// for a user imported with a password hash who has not signed in since,
// against that hash (see importedPassword). A user with neither, imported
// from a CSV file, must reset the password first.
func (s *Service) passwordMatches(ctx context.Context, p storage.Pool, u *storage.User, password string) (bool, error) {
	if len(u.SRPVerifier) > 0 {
		return hmac.Equal(srp.Verifier(srp.PoolName(p.ID), u.Username, password, u.SRPSalt), u.SRPVerifier), nil
	}
	return s.importedPassword(ctx, p, u, password)
}

// importedPassword checks password against the user's imported hash (in
// constant time, in passhash). The right password replaces the hash by an
// SRP salt and verifier in one transaction, so that from then on the user
// signs in like any other (SRP included) and the imported hash is gone.
// Of concurrent first sign-ins one replaces it; the others find the
// verifier it wrote.
func (s *Service) importedPassword(ctx context.Context, p storage.Pool, u *storage.User, password string) (bool, error) {
	raw, err := s.store.GetPasswordHash(ctx, p.ID, u.Username)
	if errors.Is(err, storage.ErrNotFound) {
		if u.Status == storage.StatusResetRequired {
			return false, ErrPasswordResetRequired
		}
		return false, nil
	}
	if err != nil {
		return false, internal("get password hash", err)
	}
	h, err := passhash.Parse(raw)
	if err != nil {
		return false, internal("parse imported hash", err)
	}
	if !h.Verify(password) {
		return false, nil
	}
	salt := srp.NewSalt()
	verifier := srp.Verifier(srp.PoolName(p.ID), u.Username, password, salt)
	now := s.now()
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := tx.UpdateUser(ctx, p.ID, u.Username, func(cur storage.User) (storage.User, error) {
			cur.SRPSalt, cur.SRPVerifier, cur.UpdatedAt = salt, verifier, now
			return cur, nil
		}); err != nil {
			return err
		}
		return tx.DeletePasswordHash(ctx, p.ID, u.Username)
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return false, internal("replace imported hash", err)
	}
	fresh, err := s.store.GetUser(ctx, p.ID, u.Username)
	if err != nil {
		return false, internal("get user", err)
	}
	*u = fresh
	s.log.Info("imported password hash replaced by an SRP verifier", "pool", p.ID, "user", u.Username, "kind", h.Kind())
	return true, nil
}

// srpWithoutVerifier answers USER_SRP_AUTH for a user without an SRP
// verifier; nil means the caller's decoy challenge, whose answer gets
// NotAuthorizedException. A user imported with a password hash is, until
// the first password sign-in, answered as Cognito answers a user its
// migration trigger has not brought over yet (SRP cannot bring anyone
// over: the password never reaches the server): UserNotFoundException,
// or the decoy when the client prevents existence errors. Apps use
// USER_PASSWORD_AUTH during a migration for that reason. A user imported
// from a CSV file must reset the password: PasswordResetRequiredException.
func (s *Service) srpWithoutVerifier(ctx context.Context, c storage.Client, u storage.User) error {
	_, err := s.store.GetPasswordHash(ctx, u.PoolID, u.Username)
	switch {
	case errors.Is(err, storage.ErrNotFound) && u.Status == storage.StatusResetRequired:
		return ErrPasswordResetRequired
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return internal("get password hash", err)
	case preventsExistenceErrors(c):
		return nil
	}
	return ErrUserNotFound
}

// ImportedUser is one line of `cognate admin import-users`' JSON-lines
// file: a user with attributes and the password hash of the system the
// user comes from (a passhash format).
type ImportedUser struct {
	Username     string            `json:"username"`
	Attributes   map[string]string `json:"attributes"`
	PasswordHash string            `json:"password_hash"`
}

// Outcomes of one imported user.
const (
	ImportOutcomeImported = "imported"
	ImportOutcomeSkipped  = "skipped"
	ImportOutcomeFailed   = "failed"
)

// ImportResult is what became of one ImportedUser.
type ImportResult struct {
	Outcome string
	// Message says why a user was skipped or failed.
	Message string
}

// hashedUser validates an imported user and builds its record: CONFIRMED,
// with the hash to store next to it and no SRP verifier yet.
func hashedUser(p storage.Pool, in ImportedUser, u storage.User) (storage.User, error) {
	if _, err := passhash.Parse(in.PasswordHash); err != nil {
		return storage.User{}, err
	}
	attrs := make([]AttributeType, 0, len(in.Attributes))
	for k, v := range in.Attributes {
		attrs = append(attrs, AttributeType{Name: k, Value: v})
	}
	if err := checkAttributes(p, attrs); err != nil {
		return storage.User{}, err
	}
	u.Username = in.Username
	if signsInByEmail(p) {
		if in.Attributes["email"] == "" {
			return storage.User{}, errors.New("the pool signs in by email: attributes.email is required")
		}
		u.Username = u.Sub
	} else if err := checkUsername(in.Username); err != nil {
		return storage.User{}, errors.New("invalid username")
	}
	applyAttributes(&u, attrs)
	u.Attributes["sub"] = u.Sub
	return u, nil
}

// ImportUsers creates users with imported password hashes in one
// transaction, each user with its hash or not at all. A user whose
// username (or email alias) exists is skipped, so that an import run
// again resumes where it stopped without creating anyone twice; a user
// that is invalid fails with a precise message. Hashes are stored as
// given: the work of an SRP verifier is done at each user's first
// sign-in.
func (s *Service) ImportUsers(ctx context.Context, poolID string, users []ImportedUser) ([]ImportResult, error) {
	p, err := s.pool(ctx, poolID)
	if err != nil {
		return nil, err
	}
	results, err := s.importHashed(ctx, p, users, false)
	if errors.Is(err, errImportConflict) {
		results, err = s.importHashed(ctx, p, users, true)
	}
	if err != nil {
		return nil, internal("import users", err)
	}
	return results, nil
}

// errImportConflict aborts a batch imported without a savepoint per
// user, which a taken name fails as a whole on PostgreSQL: the batch is
// run again with them.
var errImportConflict = errors.New("userpool: a user of the batch exists")

// createImported creates a user, with its hash if any. careful runs it
// under a savepoint, so that a taken name fails the user and not the
// transaction; otherwise a taken name is errImportConflict, and the
// caller runs the batch again carefully. Batches without conflicts, the
// usual case, save a savepoint's round trips per user.
func createImported(ctx context.Context, tx storage.Storage, u storage.User, hash string, careful bool) error {
	create := func(ctx context.Context, tx storage.Storage) error {
		if err := tx.CreateUser(ctx, u); err != nil || hash == "" {
			return err
		}
		return tx.PutPasswordHash(ctx, u.PoolID, u.Username, hash)
	}
	if careful {
		return tx.Atomic(ctx, create)
	}
	err := create(ctx, tx)
	if errors.Is(err, storage.ErrAlreadyExists) || errors.Is(err, storage.ErrInvalidValue) {
		return errImportConflict
	}
	return err
}

func (s *Service) importHashed(ctx context.Context, p storage.Pool, users []ImportedUser, careful bool) ([]ImportResult, error) {
	results := make([]ImportResult, len(users))
	now := s.now()
	err := s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		for i, in := range users {
			u, err := hashedUser(p, in, storage.User{PoolID: p.ID, Sub: uuid.NewString(), Enabled: true,
				Status: storage.StatusConfirmed, CreatedAt: now, UpdatedAt: now})
			if err != nil {
				results[i] = ImportResult{Outcome: ImportOutcomeFailed, Message: failureText(err)}
				continue
			}
			err = createImported(ctx, tx, u, in.PasswordHash, careful)
			switch {
			case errors.Is(err, storage.ErrAlreadyExists):
				results[i] = ImportResult{Outcome: ImportOutcomeSkipped, Message: "a user with this username or email exists already"}
			case errors.Is(err, storage.ErrInvalidValue):
				results[i] = ImportResult{Outcome: ImportOutcomeFailed, Message: "a value cannot be stored (NUL character or invalid UTF-8)"}
			case err != nil:
				return err
			default:
				results[i] = ImportResult{Outcome: ImportOutcomeImported}
			}
		}
		return nil
	})
	return results, err
}

// failureText is the message of a row's error: a Cognito error's own
// message, without its exception name.
func failureText(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return fmt.Sprint(err)
}
