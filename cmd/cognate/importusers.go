package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// importTasks work on the server's database directly, as the key tasks
// do: an import of users with password hashes is no Cognito operation.
var importTasks = map[string]keyTask{
	"import-users":  importUsers,
	"import-errors": importErrors,
}

// Limits of an import-users file.
const (
	importLineMax   = 64 << 10
	importBatchSize = 1000
)

// importLine is one parsed line of the file.
type importLine struct {
	n    int
	user userpool.ImportedUser
}

// importUsers reads a JSON-lines file of users with password hashes
// (docs/IMPORT.md) and creates them, a batch per transaction. Users that
// exist already are skipped, so a run that stopped is simply run again.
func importUsers(ctx context.Context, store storage.Storage, pool string, args []string, stdout, stderr io.Writer) error {
	fs := taskFlags("import-users", stderr)
	file := fs.String("file", "", "JSON-lines file of users with password hashes (- for stdin)")
	quiet := fs.Bool("quiet", false, "do not list skipped users")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("import-users: --file is required")
	}
	in := io.Reader(os.Stdin)
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("import-users: %w", err)
		}
		defer f.Close()
		in = f
	}
	svc, err := userpool.New(ctx, userpool.Options{Storage: store, Keys: keys.NewManager(store, keys.Options{})})
	if err != nil {
		return fmt.Errorf("import-users: %w", err)
	}
	var counts [3]int
	report := func(batch []importLine) error {
		users := make([]userpool.ImportedUser, len(batch))
		for i, l := range batch {
			users[i] = l.user
		}
		res, err := svc.ImportUsers(ctx, pool, users)
		if err != nil {
			return fmt.Errorf("import-users: line %d onwards: %w", batch[0].n, err)
		}
		for i, r := range res {
			switch r.Outcome {
			case userpool.ImportOutcomeImported:
				counts[0]++
			case userpool.ImportOutcomeSkipped:
				counts[1]++
				if !*quiet {
					fmt.Fprintf(stderr, "line %d (%s): skipped: %s\n", batch[i].n, batch[i].user.Username, r.Message)
				}
			default:
				counts[2]++
				fmt.Fprintf(stderr, "line %d (%s): %s\n", batch[i].n, batch[i].user.Username, r.Message)
			}
		}
		return nil
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), importLineMax)
	var batch []importLine
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		u, err := parseImportLine(line)
		if err != nil {
			counts[2]++
			fmt.Fprintf(stderr, "line %d: %v\n", n, err)
			continue
		}
		if batch = append(batch, importLine{n: n, user: u}); len(batch) == importBatchSize {
			if err := report(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("import-users: line %d: %w", n+1, err)
	}
	if len(batch) > 0 {
		if err := report(batch); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "imported %d, skipped %d (existed already), failed %d\n", counts[0], counts[1], counts[2])
	if counts[2] > 0 {
		return fmt.Errorf("import-users: %d lines failed", counts[2])
	}
	return nil
}

// parseImportLine decodes one line strictly: one JSON object with only
// the known fields, a username and a password hash; the hash's format is
// checked when the user is imported.
func parseImportLine(line []byte) (userpool.ImportedUser, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var u userpool.ImportedUser
	if err := dec.Decode(&u); err != nil {
		return u, fmt.Errorf("not a JSON object of username, attributes and password_hash: %w", err)
	}
	if dec.More() {
		return u, errors.New("more than one JSON value on the line")
	}
	if strings.TrimSpace(u.Username) == "" && u.Attributes["email"] == "" {
		return u, errors.New("username is required (or attributes.email in a pool that signs in by email)")
	}
	if u.PasswordHash == "" {
		return u, errors.New("password_hash is required")
	}
	return u, nil
}

// importErrors lists the row errors of a user import job, which Cognito
// would have written to CloudWatch Logs.
func importErrors(ctx context.Context, store storage.Storage, pool string, args []string, stdout, stderr io.Writer) error {
	fs := taskFlags("import-errors", stderr)
	job := fs.String("job", "", "the import job's id (import-…)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *job == "" {
		return errors.New("import-errors: --job is required")
	}
	if _, err := store.GetImportJob(ctx, pool, *job); errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("import-errors: no job %s in pool %s", *job, pool)
	} else if err != nil {
		return fmt.Errorf("import-errors: %w", err)
	}
	var after int64
	for {
		errs, err := store.ListImportRowErrors(ctx, pool, *job, after, 1000)
		if err != nil {
			return fmt.Errorf("import-errors: %w", err)
		}
		for _, e := range errs {
			fmt.Fprintf(stdout, "row %d\t%s\t%s\n", e.Row, e.Username, e.Message)
			after = e.Row
		}
		if len(errs) < 1000 {
			return nil
		}
	}
}
