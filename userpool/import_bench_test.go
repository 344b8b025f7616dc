package userpool_test

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/postgres"
	"github.com/cognate-auth/cognate/storage/sqlite"
	"github.com/cognate-auth/cognate/userpool"
)

// importBenchUsers is the size of the import: 100,000 users, the size
// the issue asks to time, unless -import-users says otherwise.
var importBenchUsers = flag.Int("import-users", 100_000, "users BenchmarkImport100k imports")

// BenchmarkImport100k imports 100,000 users on each backend, with
// password hashes (as `cognate admin import-users` does, 1,000 a call)
// and through a CSV import job, and reports users/s. One run takes
// minutes:
//
//	go test ./userpool -run '^$' -bench Import100k -benchtime 1x [-args -import-users N]
func BenchmarkImport100k(b *testing.B) {
	backends := map[string]func(b *testing.B) storage.Storage{
		"sqlite": func(b *testing.B) storage.Storage {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(b *testing.B) storage.Storage {
			s, err := postgres.Open(context.Background(), servicetest.Postgres(b), postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name+"/hashes", func(b *testing.B) { benchHashImport(b, backends[name](b)) })
		b.Run(name+"/csv", func(b *testing.B) { benchCSVImport(b, backends[name](b)) })
	}
}

func benchService(b *testing.B, store storage.Storage) (*userpool.Service, string) {
	ctx := context.Background()
	svc, err := userpool.New(ctx, userpool.Options{Storage: store, Keys: keys.NewManager(store, keys.Options{}), IssuerBase: "http://cognate.test"})
	if err != nil {
		b.Fatal(err)
	}
	p, err := svc.CreateUserPool(ctx, userpool.CreateUserPoolInput{PoolName: "bench", AutoVerifiedAttributes: []string{"email"}})
	if err != nil {
		b.Fatal(err)
	}
	return svc, p.UserPool.Id
}

func benchHashImport(b *testing.B, store storage.Storage) {
	const hash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	for b.Loop() {
		svc, pool := benchService(b, store)
		start := time.Now()
		for i := 0; i < *importBenchUsers; i += 1000 {
			batch := make([]userpool.ImportedUser, 1000)
			for j := range batch {
				n := i + j
				batch[j] = userpool.ImportedUser{Username: fmt.Sprintf("user%06d", n), PasswordHash: hash,
					Attributes: map[string]string{"email": fmt.Sprintf("user%06d@example.com", n), "email_verified": "true"}}
			}
			res, err := svc.ImportUsers(b.Context(), pool, batch)
			if err != nil || res[0].Outcome != userpool.ImportOutcomeImported {
				b.Fatalf("import: %v %+v", err, res[0])
			}
		}
		b.ReportMetric(float64(*importBenchUsers)/time.Since(start).Seconds(), "users/s")
	}
}

func benchCSVImport(b *testing.B, store storage.Storage) {
	var file strings.Builder
	file.WriteString(importHeader)
	for n := range *importBenchUsers {
		fmt.Fprintf(&file, "Name %d,,,,,,,,,csv%06d@example.com,true,,,,,,,,,false,csv%06d\n", n, n, n)
	}
	for b.Loop() {
		svc, pool := benchService(b, store)
		ctx := b.Context()
		job, err := svc.CreateUserImportJob(ctx, userpool.CreateUserImportJobInput{UserPoolId: pool, JobName: "bench", CloudWatchLogsRoleArn: "arn:aws:iam::123456789012:role/import"})
		if err != nil {
			b.Fatal(err)
		}
		u, _ := url.Parse(job.UserImportJob.PreSignedUrl)
		q := u.Query()
		start := time.Now()
		if err := svc.UploadImportFile(ctx, pool, job.UserImportJob.JobId, q.Get("X-Cognate-Expires"), q.Get("X-Cognate-Signature"), strings.NewReader(file.String())); err != nil {
			b.Fatal(err)
		}
		in := userpool.UserImportJobInput{UserPoolId: pool, JobId: job.UserImportJob.JobId}
		if _, err := svc.StartUserImportJob(ctx, in); err != nil {
			b.Fatal(err)
		}
		svc.RunImportsOnce(ctx)
		out, err := svc.DescribeUserImportJob(ctx, in)
		if err != nil || out.UserImportJob.ImportedUsers != int64(*importBenchUsers) {
			b.Fatalf("job: %+v %v", out.UserImportJob, err)
		}
		b.ReportMetric(float64(*importBenchUsers)/time.Since(start).Seconds(), "users/s")
	}
}
