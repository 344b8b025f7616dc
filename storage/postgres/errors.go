package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cognate-auth/cognate/storage"
)

// SQLSTATE codes the package acts on.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	// A text value PostgreSQL cannot hold: invalid UTF-8 or a NUL byte
	// (22021), or a \u0000 escape in JSONB (22P05).
	codeCharacterNotInRepertoire = "22021"
	codeUntranslatableCharacter  = "22P05"
	codeSerializationFailure     = "40001"
	codeDeadlockDetected         = "40P01"
)

// wrap prefixes err with the operation and maps driver errors onto the
// storage sentinels, keeping the driver error in the chain.
func wrap(op string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			return fmt.Errorf("postgres: %s: %w: %w", op, storage.ErrAlreadyExists, err)
		case codeCharacterNotInRepertoire, codeUntranslatableCharacter:
			// A NUL or invalid UTF-8 in a text value.
			return fmt.Errorf("postgres: %s: %w: %w", op, storage.ErrInvalidValue, err)
		case codeForeignKeyViolation:
			// A record refers to a pool, user, group or family that does
			// not exist.
			return fmt.Errorf("postgres: %s: referenced record: %w: %w", op, storage.ErrNotFound, err)
		}
	}
	if unavailable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// unavailable reports whether err says the database could not be reached
// or dropped the call before it committed, rather than refusing it: the
// same call may succeed later. A context the caller ended is not the
// database's doing and is left to speak for itself.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// The server answered: only these answers say "not now". Any other
		// (a wrong password, a missing database) needs an operator, and
		// retrying would not help.
		switch pe.Code {
		case "57P01", // admin_shutdown: terminated by an administrator
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up or shutting down
			"57014", // query_canceled: the statement timeout
			"53300": // too_many_connections
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection exceptions
	}
	var (
		ce *pgconn.ConnectError
		ne net.Error
	)
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.Is(err, pgconn.ErrConnClosed),
		pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return true
	}
	return false
}

// isConflict reports whether the server aborted err's transaction to
// resolve a conflict with another one, which running it again resolves.
func isConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected)
}
