package userpool

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/storage"
)

func importPool() storage.Pool {
	return storage.Pool{ID: "us-east-1_Imp0rt", Settings: storage.PoolSettings{
		AutoVerifiedAttributes: []string{"email"},
		Schema:                 []storage.SchemaAttribute{{Name: "custom:plan", AttributeDataType: "String", Mutable: true}},
	}}
}

// row renders values under the pool's header.
func row(p storage.Pool, vals map[string]string) (map[string]int, []string) {
	h := csvHeader(p)
	cols, err := csvColumns(p, h)
	if err != nil {
		panic(err)
	}
	rec := make([]string, len(h))
	for i, c := range h {
		rec[i] = vals[c]
	}
	return cols, rec
}

func TestCSVHeader(t *testing.T) {
	p := importPool()
	h := csvHeader(p)
	if h[0] != "name" || h[len(h)-3] != "custom:plan" || h[len(h)-2] != csvMFAEnabled || h[len(h)-1] != csvUsername {
		t.Fatalf("header %v", h)
	}
	for name, header := range map[string][]string{
		"missing column": h[1:],
		"unknown column": append(slices.Clone(h), "custom:other"),
		"twice":          append(slices.Clone(h), "name"),
	} {
		if _, err := csvColumns(p, header); !errors.Is(err, errImportHeader) {
			t.Errorf("%s: %v", name, err)
		}
	}
	reordered := slices.Clone(h)
	slices.Reverse(reordered)
	reordered[0] = "\ufeff" + reordered[0]
	if _, err := csvColumns(p, reordered); err != nil {
		t.Errorf("reordered header with a BOM: %v", err)
	}
}

func TestCSVUser(t *testing.T) {
	p := importPool()
	good := func(extra map[string]string) map[string]string {
		m := map[string]string{csvUsername: "ann", csvMFAEnabled: "FALSE", "email": "Ann@Example.com", "email_verified": "TRUE", "custom:plan": "gold"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	u, err := parseRow(p, good(nil))
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "ann" || u.Status != storage.StatusResetRequired || !u.Enabled || len(u.SRPVerifier) != 0 ||
		u.Email != "ann@example.com" || u.Attributes["email_verified"] != "true" || u.Attributes["custom:plan"] != "gold" || u.Attributes["sub"] != u.Sub {
		t.Fatalf("user %+v", u)
	}
	tests := []struct {
		name string
		vals map[string]string
		want string
	}{
		{"no username", good(map[string]string{csvUsername: ""}), "cognito:username is required"},
		{"username with a space", good(map[string]string{csvUsername: "a b"}), "invalid cognito:username"},
		{"mfa missing", good(map[string]string{csvMFAEnabled: ""}), "cognito:mfa_enabled must be true or false"},
		{"mfa true", good(map[string]string{csvMFAEnabled: "true"}), "not supported"},
		{"bad email", good(map[string]string{"email": "nope"}), "Invalid email address format."},
		{"bad phone", good(map[string]string{"phone_number": "555"}), "Invalid phone number format."},
		{"bad boolean", good(map[string]string{"email_verified": "yes"}), "email_verified must be true or false"},
		{"verified without email", good(map[string]string{"email": "", "phone_number": "+15555550100", "phone_number_verified": "true"}), "email_verified is true but email is empty"},
		{"nothing auto-verified", good(map[string]string{"email_verified": "false"}), "auto-verified attributes (email)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseRow(p, tc.vals)
			var re *rowError
			if !errors.As(err, &re) || re.skipped || !strings.Contains(re.msg, tc.want) {
				t.Fatalf("err %v, want a failed row saying %q", err, tc.want)
			}
		})
	}
	cols, rec := row(p, good(nil))
	if _, err := csvUser(p, cols, rec[1:]); err == nil || !strings.Contains(err.Error(), "columns") {
		t.Errorf("short row: %v", err)
	}
	email := p
	email.Settings.UsernameAttributes = []string{"email"}
	if u, err := parseRow(email, good(nil)); err != nil || u.Username != u.Sub {
		t.Errorf("email pool: %+v %v", u, err)
	}
}

func parseRow(p storage.Pool, vals map[string]string) (storage.User, error) {
	cols, rec := row(p, vals)
	return csvUser(p, cols, rec)
}

// FuzzCSVRow feeds arbitrary files to the reader and row parser of
// import jobs: nothing panics, a row either builds a RESET_REQUIRED user
// without a password or fails with a row error.
func FuzzCSVRow(f *testing.F) {
	p := importPool()
	h := strings.Join(csvHeader(p), ",")
	f.Add(h + "\nx,,,,,,,,,a@b.co,true,,,,,,,,,,false,ann\n")
	f.Add(h + "\n\"unterminated,\n")
	f.Add(h + "\na,b\n\"x\"\"y\",")
	f.Add("cognito:username\nann\n")
	f.Fuzz(func(t *testing.T, file string) {
		rd := csvReader([]byte(file))
		header, err := rd.Read()
		if err != nil {
			return
		}
		cols, err := csvColumns(p, header)
		if err != nil {
			if !errors.Is(err, errImportHeader) {
				t.Fatalf("header error %v", err)
			}
			return
		}
		for range 50 {
			rec, err := rd.Read()
			if err != nil {
				return
			}
			u, err := csvUser(p, cols, rec)
			var re *rowError
			switch {
			case err == nil:
				if u.Status != storage.StatusResetRequired || len(u.SRPVerifier) != 0 || u.Username == "" {
					t.Fatalf("user %+v", u)
				}
			case !errors.As(err, &re):
				t.Fatalf("row error %v is no rowError", err)
			}
		}
	})
}
