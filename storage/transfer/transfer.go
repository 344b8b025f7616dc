// Package transfer copies one installation's records into another
// storage, so that a deployment can move from one backend to another (the
// embedded SQLite database to PostgreSQL, say) without signing anyone out.
//
// # What is copied
//
// Copy copies, in an order that puts every parent before its children:
// the server's named secrets (among them the keys that seal sign-in
// sessions and hash one-time codes), pools, app clients, signing keys
// (private keys included: they are what makes tokens issued before the
// move verify after it), users (SRP salts and verifiers and every other
// field), groups and group memberships, pending one-time codes (so that
// an unconfirmed sign-up can still be confirmed), refresh families and
// refresh tokens (so that signed-in users stay signed in), and events API
// keys. Records are copied field for field: IDs, hashes and times are
// kept.
//
// Transient records are deliberately not copied: attempt counters
// (lockout state), OAuth authorization codes, hosted-UI login sessions
// and delivery messages (the queue and the development outbox). They
// live minutes to days, and a user who loses one signs in again or asks
// for a new code. [NotCopied] lists them for tools to print.
//
// # Idempotence and conflicts
//
// Copy never overwrites. A record the target holds already is compared
// with the source's: an identical one counts as present, a different one
// is reported (by key and the names of the fields that differ, never
// their values) and left alone. Running Copy twice therefore leaves the
// target as the first run did, and the second run copies nothing.
//
// A named secret the target holds with a different value is a conflict
// that stops Copy before it writes anything: the target has been used by
// a server of its own, and taking either value would break something
// (pending codes, or the consistency of the answers for unknown users).
// The exceptions are the few secrets that only protect state living
// minutes (in-flight sign-in challenges and forms): for those the
// target's value is kept and a note says so.
//
// # Verification
//
// After copying, Copy counts each kind of record in the target again: it
// must hold what it held before plus what was copied, and at least as
// many records as the source. A target that held other records before
// the copy may hold more than the source; [KindReport.Other] says how
// many. [Report.OK] is false when a count does not match or a record
// differs.
//
// # Streaming and consistency
//
// Users are read a page at a time and memberships, codes, refresh
// families, tokens and secrets through [storage.Enumerator], and written
// in transactions of [Options.BatchSize] records, so memory does not grow
// with the installation. Neither store should be in use while Copy runs:
// a server writing to either makes the counts disagree.
package transfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cognate-auth/cognate/storage"
)

// Source is a storage Copy can read everything from: the whole contract,
// and the optional walk over the records it only looks up by key.
type Source interface {
	storage.Storage
	storage.Enumerator
}

// Kind names a kind of record Copy copies.
type Kind string

// The kinds of record Copy copies, as reports name them.
const (
	Secrets         Kind = "secrets"
	Pools           Kind = "pools"
	Clients         Kind = "app clients"
	SigningKeys     Kind = "signing keys"
	Users           Kind = "users"
	Groups          Kind = "groups"
	GroupMembers    Kind = "group memberships"
	Codes           Kind = "pending codes"
	RefreshFamilies Kind = "refresh families"
	RefreshTokens   Kind = "refresh tokens"
	APIKeys         Kind = "API keys"
	Passkeys        Kind = "passkeys"
	Devices         Kind = "devices"
	PasswordHashes  Kind = "imported password hashes"
	IdPs            Kind = "identity providers"
	FederatedLinks  Kind = "federated identity links"
)

// Kinds lists the kinds in the order Copy copies them: parents first.
var Kinds = []Kind{Secrets, Pools, Clients, SigningKeys, Users, Groups, GroupMembers, Codes, RefreshFamilies, RefreshTokens, APIKeys,
	Passkeys, Devices, PasswordHashes, IdPs, FederatedLinks}

// NotCopied lists the transient kinds of record Copy leaves behind.
var NotCopied = []string{
	"attempt counters (lockout state)",
	"OAuth authorization codes",
	"hosted-UI login sessions",
	"delivery messages (queue and development outbox)",
	"user import jobs (their files and row errors)",
}

// Sentinel errors of Copy.
var (
	// ErrSecretConflict means the target holds a named secret with a
	// different value than the source's, and neither may be dropped.
	ErrSecretConflict = errors.New("transfer: the target holds a different value for a secret")
	// ErrTargetNotEnumerable means the target cannot be counted, so the
	// copy could not be verified.
	ErrTargetNotEnumerable = errors.New("transfer: the target does not implement storage.Enumerator")
)

// DefaultBatchSize is how many records a target transaction writes
// when Options.BatchSize is not set.
const DefaultBatchSize = 500

// MaxDifferences bounds the differences a Report lists; it counts them
// all.
const MaxDifferences = 100

// safeToKeep are the named secrets whose target value may stay when it
// differs from the source's, with why.
var safeToKeep = map[string]string{
	"userpool/session-seal": "it seals only in-flight sign-in challenges, which live minutes",
	"oauth/csrf":            "it protects only forms of the hosted pages being filled in",
}

// Options configures Copy.
type Options struct {
	// DryRun compares the source with the target and reports what Copy
	// would copy, writing nothing.
	DryRun bool
	// BatchSize is how many records one target transaction writes; zero
	// means DefaultBatchSize.
	BatchSize int
	// Logger receives progress, one message per kind; nil discards it.
	Logger *slog.Logger
}

// Report is what Copy did (or, on a dry run, would do).
type Report struct {
	DryRun bool
	// Kinds holds one entry per kind, in copy order.
	Kinds []KindReport
	// Differences are source records the target holds with other
	// content (the first MaxDifferences of them).
	Differences []Difference
	// Notes say what Copy decided that is not a problem (a secret whose
	// target value was kept).
	Notes []string
}

// KindReport counts one kind of record.
type KindReport struct {
	Kind Kind
	// Source is how many records the source holds.
	Source int64
	// Copied were written to the target (on a dry run: would be).
	Copied int64
	// Present were in the target already, identical.
	Present int64
	// Kept were in the target with another value that is safe to keep
	// (secrets only).
	Kept int64
	// Differing are in the target with other content, or clash with
	// another target record; they were left alone.
	Differing int64
	// TargetBefore and TargetAfter count the kind in the target before
	// and after the copy (TargetAfter is not counted on a dry run).
	TargetBefore, TargetAfter int64
}

// Difference is one source record the target holds with other content.
type Difference struct {
	Kind Kind
	// Key names the record (never a secret value).
	Key string
	// Detail says what differs: field names, or the clash.
	Detail string
}

// Other returns how many records of the kind the target holds that did
// not come from the source.
func (k KindReport) Other() int64 {
	return max(0, k.TargetAfter-k.Source)
}

// Problem describes why the kind does not verify, or returns "" when it
// does. A dry run verifies only that nothing differs.
func (k KindReport) Problem(dryRun bool) string {
	if k.Differing > 0 {
		return fmt.Sprintf("%d source records differ from the target's", k.Differing)
	}
	if dryRun {
		return ""
	}
	if k.TargetAfter != k.TargetBefore+k.Copied {
		return fmt.Sprintf("the target holds %d, want %d (%d before + %d copied): was it written to during the copy?",
			k.TargetAfter, k.TargetBefore+k.Copied, k.TargetBefore, k.Copied)
	}
	if k.TargetAfter < k.Source {
		return fmt.Sprintf("the target holds %d, fewer than the source's %d", k.TargetAfter, k.Source)
	}
	return ""
}

// OK reports whether every kind verifies.
func (r Report) OK() bool {
	for _, k := range r.Kinds {
		if k.Problem(r.DryRun) != "" {
			return false
		}
	}
	return true
}

// Kind returns the report of kind k.
func (r Report) Kind(k Kind) KindReport {
	for _, kr := range r.Kinds {
		if kr.Kind == k {
			return kr
		}
	}
	return KindReport{Kind: k}
}

// copier holds the state of one Copy.
type copier struct {
	from   Source
	to     storage.Storage
	toEnum storage.Enumerator
	opts   Options
	log    *slog.Logger
	report *Report
	// cur is the report of the kind being copied.
	cur *KindReport
}

// Copy copies from's records into to, as the package doc describes, and
// returns what it did. The target must implement storage.Enumerator too,
// so that the copy can be verified. An error means Copy stopped: what it
// copied until then stays, and running it again carries on. A returned
// Report that is not OK means the copy finished but does not verify.
func Copy(ctx context.Context, from Source, to storage.Storage, opts Options) (Report, error) {
	toEnum, ok := to.(storage.Enumerator)
	if !ok {
		return Report{}, fmt.Errorf("%w (%T)", ErrTargetNotEnumerable, to)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	report := Report{DryRun: opts.DryRun, Kinds: make([]KindReport, len(Kinds))}
	for i, k := range Kinds {
		report.Kinds[i].Kind = k
	}
	c := &copier{from: from, to: to, toEnum: toEnum, opts: opts, log: log, report: &report}

	before, err := count(ctx, to, toEnum)
	if err != nil {
		return report, fmt.Errorf("transfer: count the target: %w", err)
	}
	for i := range report.Kinds {
		report.Kinds[i].TargetBefore = before[report.Kinds[i].Kind]
	}

	steps := []func(context.Context) error{
		c.copySecrets, c.copyPools, c.copyClients, c.copySigningKeys, c.copyUsers, c.copyGroups,
		c.copyGroupMembers, c.copyCodes, c.copyFamilies, c.copyTokens, c.copyAPIKeys,
		c.copyPasskeys, c.copyDevices, c.copyPasswordHashes, c.copyIdentityProviders, c.copyFederatedLinks,
	}
	for i, step := range steps {
		c.cur = &report.Kinds[i]
		if err := step(ctx); err != nil {
			return report, fmt.Errorf("transfer: %s: %w", c.cur.Kind, err)
		}
		log.Info("transfer: kind done", "kind", c.cur.Kind, "source", c.cur.Source, "copied", c.cur.Copied,
			"present", c.cur.Present, "differing", c.cur.Differing, "dry_run", opts.DryRun)
	}
	if opts.DryRun {
		return report, nil
	}

	after, err := count(ctx, to, toEnum)
	if err != nil {
		return report, fmt.Errorf("transfer: count the target after copying: %w", err)
	}
	for i := range report.Kinds {
		report.Kinds[i].TargetAfter = after[report.Kinds[i].Kind]
	}
	return report, nil
}

// differ records a source record the target holds with other content.
func (c *copier) differ(key, detail string) {
	c.cur.Differing++
	if len(c.report.Differences) < MaxDifferences {
		c.report.Differences = append(c.report.Differences, Difference{Kind: c.cur.Kind, Key: key, Detail: detail})
	}
}
