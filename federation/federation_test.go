package federation

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"
)

type countingKind struct{ built int }

type nopUpstream struct{ n int }

func (nopUpstream) Begin(context.Context, Request) (Start, error) { return Start{}, nil }
func (nopUpstream) Finish(context.Context, Request, string, url.Values) (Identity, error) {
	return Identity{}, nil
}

func (k *countingKind) Check(_ context.Context, p Provider) (map[string]string, error) {
	return p.Details, nil
}

func (k *countingKind) New(context.Context, Provider) (Upstream, error) {
	k.built++
	return nopUpstream{n: k.built}, nil
}

func TestRegistryReusesUntilChangeOrTTL(t *testing.T) {
	ctx := context.Background()
	k := &countingKind{}
	r := NewRegistry(time.Minute)
	now := time.Unix(1_000_000, 0)
	r.now = func() time.Time { return now }
	r.Register(k, TypeOIDC, TypeGoogle)
	p := Provider{PoolID: "p", Name: "Up", Type: TypeOIDC, UpdatedAt: now}
	steps := []struct {
		name  string
		edit  func()
		built int
	}{
		{"first use builds", func() {}, 1},
		{"same configuration reuses", func() {}, 1},
		{"changed configuration rebuilds", func() { p.UpdatedAt = p.UpdatedAt.Add(time.Second) }, 2},
		{"aged out rebuilds", func() { now = now.Add(2 * time.Minute) }, 3},
		{"other provider builds its own", func() { p.Name = "Other" }, 4},
	}
	for _, s := range steps {
		s.edit()
		if _, err := r.Upstream(ctx, p); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if k.built != s.built {
			t.Fatalf("%s: built %d times, want %d", s.name, k.built, s.built)
		}
	}
	if !r.Supports(TypeGoogle) || r.Supports(TypeSAML) {
		t.Fatal("Supports does not follow Register")
	}
	if _, err := r.Upstream(ctx, Provider{Type: TypeSAML}); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("unregistered type: %v", err)
	}
	if _, err := r.Check(ctx, Provider{Type: "Nope"}); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("Check of unregistered type: %v", err)
	}
}
