package userpool

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

func TestCheckPassword(t *testing.T) {
	pol := DefaultPasswordPolicy
	tests := []struct {
		pw      string
		wantErr *Error
		mention []string
	}{
		{"Passw0rd!", nil, nil},
		{"Pässw0rd ok", nil, nil},
		{"short1!", ErrInvalidPassword, []string{"not long enough", "uppercase"}},
		{"alllowercase1!", ErrInvalidPassword, []string{"uppercase"}},
		{"NoDigits!!", ErrInvalidPassword, []string{"numeric"}},
		{"NoSymbols11", ErrInvalidPassword, []string{"symbol"}},
		{" Leading1!", ErrInvalidPassword, []string{"space"}},
		{"", ErrInvalidParameter, nil},
		{strings.Repeat("Aa1!", 70), ErrInvalidParameter, []string{"256"}},
		{"Bad\xffUtf8!1", ErrInvalidParameter, nil},
	}
	for _, tt := range tests {
		err := checkPassword(pol, tt.pw)
		if tt.wantErr == nil {
			if err != nil {
				t.Errorf("checkPassword(%q) = %v", tt.pw, err)
			}
			continue
		}
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("checkPassword(%q) = %v, want %s", tt.pw, err, tt.wantErr.Type)
			continue
		}
		for _, m := range tt.mention {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("checkPassword(%q) message %q lacks %q", tt.pw, err, m)
			}
		}
	}
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in     string
		ok     bool
		attr   string
		prefix bool
		value  string
	}{
		{``, true, "", false, ""},
		{`email = "a@b.c"`, true, "email", false, "a@b.c"},
		{`email^="ann"`, true, "email", true, "ann"},
		{`cognito:user_status = "UNCONFIRMED"`, true, "cognito:user_status", false, "UNCONFIRMED"},
		{`name = "say \"hi\""`, true, "name", false, `say "hi"`},
		{`email = a@b.c`, false, "", false, ""},
		{`custom:x = "1"`, false, "", false, ""},
		{`email ~= "x"`, false, "", false, ""},
		{`= "x"`, false, "", false, ""},
		{`email = "a"b"`, false, "", false, ""},
		{`email = "` + strings.Repeat("x", 300) + `"`, false, "", false, ""},
	}
	for _, tt := range tests {
		f, err := parseFilter(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseFilter(%q) err = %v", tt.in, err)
			continue
		}
		if err != nil && !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("parseFilter(%q) = %v, want InvalidParameterException", tt.in, err)
		}
		if tt.ok && tt.attr != "" && (f.attr != tt.attr || f.prefix != tt.prefix || f.value != tt.value) {
			t.Errorf("parseFilter(%q) = %+v", tt.in, f)
		}
	}
}

func TestValidRedirectURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://app.example.com/cb":           true,
		"http://localhost:3000/cb":             true,
		"http://127.0.0.1/cb":                  true,
		"http://app.example.com/cb":            false,
		"https://app.example.com/#x":           false,
		"myapp://cb":                           false,
		"/relative":                            false,
		"https://" + strings.Repeat("a", 1100): false,
	} {
		if got := validRedirectURL(raw); got != want {
			t.Errorf("validRedirectURL(%q) = %v", raw, got)
		}
	}
}

func TestCheckAttributes(t *testing.T) {
	p := storage.Pool{Settings: storage.PoolSettings{Schema: []storage.SchemaAttribute{{Name: "custom:tenant"}}}}
	tests := []struct {
		attrs []AttributeType
		ok    bool
	}{
		{[]AttributeType{{"email", "a@example.com"}, {"name", "Ann"}, {"custom:tenant", "t1"}}, true},
		{[]AttributeType{{"phone_number", "+14155550100"}}, true},
		{[]AttributeType{{"custom:undeclared", "x"}}, false},
		{[]AttributeType{{"sub", "x"}}, false},
		{[]AttributeType{{"email", "not-an-email"}}, false},
		{[]AttributeType{{"email", "Ann <a@example.com>"}}, false},
		{[]AttributeType{{"phone_number", "555-0100"}}, false},
		{[]AttributeType{{"email_verified", "yes"}}, false},
		{[]AttributeType{{"name", "a"}, {"name", "b"}}, false},
		{[]AttributeType{{"name", strings.Repeat("x", 3000)}}, false},
	}
	for _, tt := range tests {
		if err := checkAttributes(p, tt.attrs); (err == nil) != tt.ok {
			t.Errorf("checkAttributes(%v) = %v", tt.attrs, err)
		}
	}
}

func TestValidity(t *testing.T) {
	tests := []struct {
		n         int64
		unit, def string
		want      time.Duration
	}{
		{0, "", "hours", time.Hour},
		{60, "minutes", "hours", time.Hour},
		{2, "", "hours", 2 * time.Hour},
		{30, "", "days", 30 * 24 * time.Hour},
		{90, "seconds", "hours", 90 * time.Second},
	}
	for _, tt := range tests {
		if got := validity(tt.n, tt.unit, tt.def, time.Hour); got != tt.want {
			t.Errorf("validity(%d, %q) = %v, want %v", tt.n, tt.unit, got, tt.want)
		}
	}
}

func TestSealerBindsPurposeAndExpires(t *testing.T) {
	s, err := newSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	type v struct{ A string }
	sealed, err := s.seal("srp", "pool|client", now, v{"x"})
	if err != nil {
		t.Fatal(err)
	}
	var got v
	if err := s.open("srp", "pool|client", sealed, time.Minute, now.Add(30*time.Second), &got); err != nil || got.A != "x" {
		t.Fatalf("open = %v %+v", err, got)
	}
	// Change the first character to another one: a fixed replacement would
	// leave the value untouched whenever the random nonce already starts with it.
	first := byte('A')
	if sealed[0] == first {
		first = 'B'
	}
	tampered := string(first) + sealed[1:]
	for name, fn := range map[string]func() error{
		"other purpose": func() error { return s.open("new-password", "pool|client", sealed, time.Minute, now, &got) },
		"other client":  func() error { return s.open("srp", "pool|other", sealed, time.Minute, now, &got) },
		"expired":       func() error { return s.open("srp", "pool|client", sealed, time.Minute, now.Add(2*time.Minute), &got) },
		"tampered":      func() error { return s.open("srp", "pool|client", tampered, time.Minute, now, &got) },
		"garbage":       func() error { return s.open("srp", "pool|client", "!!!", time.Minute, now, &got) },
		"oversized": func() error {
			return s.open("srp", "pool|client", strings.Repeat("A", maxSealed+4), time.Minute, now, &got)
		},
	} {
		if err := fn(); !errors.Is(err, errBadSeal) {
			t.Errorf("%s: open = %v", name, err)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{"ann@example.com": "a***@e***", "x": "***", "@b": "***"} {
		if got := maskEmail(in); got != want {
			t.Errorf("maskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}
