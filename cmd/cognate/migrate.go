package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/cognate-auth/cognate/internal/redact"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/backends"
	"github.com/cognate-auth/cognate/storage/postgres"
	"github.com/cognate-auth/cognate/storage/sqlite"
	"github.com/cognate-auth/cognate/storage/transfer"
)

const migrateUsage = `usage: cognate migrate --from <SQLite data directory or cognate.db> --to <postgres://…> [--dry-run]

Copies an installation from the embedded SQLite database into PostgreSQL:
secrets, pools, app clients, signing keys, users, groups and memberships,
pending codes, refresh families and tokens, and events API keys, so that
users stay signed in and tokens issued before the move still verify.
Transient records (attempt counters, authorization codes, login sessions,
delivery messages) are not copied.

Stop the servers using either database first. Running the command again
copies only what is missing and reports records that differ instead of
overwriting them. It exits non-zero when the copy does not verify.

flags:
`

// errNotVerified is migrate's answer when the copy finished but does not
// verify.
var errNotVerified = errors.New("migrate: the target does not match the source (see above)")

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the SQLite data directory, or its cognate.db file")
	to := fs.String("to", "", "the PostgreSQL URL (postgres://user:password@host/database)")
	dryRun := fs.Bool("dry-run", false, "compare and print what would be copied, writing nothing")
	fs.Usage = func() { io.WriteString(stderr, migrateUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("migrate: --from and --to are required, and nothing else")
	}
	target, err := url.Parse(*to)
	if err != nil || (target.Scheme != "postgres" && target.Scheme != "postgresql") {
		return errors.New("migrate: --to must be a postgres:// URL")
	}
	shown := redact.URL(*to)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	src, err := openSource(ctx, *from, log)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, *to, postgres.Options{Logger: log})
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		return redact.Error(fmt.Errorf("migrate: target %s is unreachable: %w", shown, err), "", *to)
	case err != nil: // a schema newer than this binary's is postgres.ErrSchemaTooNew
		return redact.Error(fmt.Errorf("migrate: target %s: %w", shown, err), "", *to)
	}
	defer dst.Close()

	verb := "copying"
	if *dryRun {
		verb = "dry run: comparing"
	}
	fmt.Fprintf(stdout, "%s %s into %s\n\n", verb, *from, shown)
	report, err := transfer.Copy(ctx, src, dst, transfer.Options{DryRun: *dryRun, Logger: log})
	printReport(stdout, report)
	if err != nil {
		return redact.Error(fmt.Errorf("migrate: %w", err), "", *to)
	}
	if !report.OK() {
		return errNotVerified
	}
	return nil
}

// openSource opens the SQLite database at path: a data directory, the way
// the server opens it, or the database file itself. It must exist.
func openSource(ctx context.Context, path string, log *slog.Logger) (transfer.Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("migrate: source: %w", err)
	}
	var s storage.Storage
	if fi.IsDir() {
		s, err = backends.Open(ctx, backends.Options{DataDir: path, MustExist: true, Logger: log})
	} else {
		s, err = sqlite.Open(ctx, path, sqlite.Options{Logger: log})
	}
	if err != nil {
		return nil, fmt.Errorf("migrate: source %s: %w", path, err)
	}
	src, ok := s.(transfer.Source)
	if !ok {
		s.Close()
		return nil, fmt.Errorf("migrate: source %s: %T cannot be walked", path, s)
	}
	return src, nil
}

// printReport writes one line per kind, then the verification.
func printReport(w io.Writer, r transfer.Report) {
	copied := "copied"
	if r.DryRun {
		copied = "to copy"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "kind\tsource\t%s\talready present\tdiffering\n", copied)
	for _, k := range r.Kinds {
		present := fmt.Sprint(k.Present)
		if k.Kept > 0 {
			present = fmt.Sprintf("%d (+%d kept)", k.Present, k.Kept)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\n", k.Kind, k.Source, k.Copied, present, k.Differing)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nnot copied (transient): %s\n", strings.Join(transfer.NotCopied, ", "))
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if len(r.Differences) > 0 {
		fmt.Fprintln(w, "\ndiffering records (left as the target has them):")
		for _, d := range r.Differences {
			fmt.Fprintf(w, "  %s %s: %s\n", d.Kind, d.Key, d.Detail)
		}
		if n := differing(r); n > len(r.Differences) {
			fmt.Fprintf(w, "  … and %d more\n", n-len(r.Differences))
		}
	}
	fmt.Fprintln(w, "\nverification:")
	for _, k := range r.Kinds {
		switch p := k.Problem(r.DryRun); {
		case p != "":
			fmt.Fprintf(w, "  %-18s MISMATCH: %s\n", k.Kind, p)
		case r.DryRun:
			fmt.Fprintf(w, "  %-18s not verified (dry run)\n", k.Kind)
		case k.Other() > 0:
			fmt.Fprintf(w, "  %-18s ok: %d in the target, %d of them not from the source (it held %d before)\n",
				k.Kind, k.TargetAfter, k.Other(), k.TargetBefore)
		default:
			fmt.Fprintf(w, "  %-18s ok: %d in the source, %d in the target\n", k.Kind, k.Source, k.TargetAfter)
		}
	}
}

// differing counts the report's differing records.
func differing(r transfer.Report) int {
	n := int64(0)
	for _, k := range r.Kinds {
		n += k.Differing
	}
	return int(n)
}
