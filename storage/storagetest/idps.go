package storagetest

import (
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var idpTests = []test{
	{"IdentityProvider/RoundTrip", testIDPRoundTrip},
	{"IdentityProvider/ListPages", testIDPList},
	{"IdentityProvider/Errors", testIDPErrors},
	{"IdentityProvider/Links", testFederatedLinks},
}

func idpRecord(poolID, name string) storage.IdentityProvider {
	return storage.IdentityProvider{
		PoolID: poolID, Name: name, Type: "OIDC",
		Details:          map[string]string{"client_id": "cid", "oidc_issuer": "https://idp.example.com", "client_secret": "sealed:x"},
		AttributeMapping: map[string]string{"email": "email", "username": "sub"},
		Identifiers:      []string{name + ".example.com"},
		CreatedAt:        base,
		UpdatedAt:        base.Add(time.Second),
	}
}

func testIDPRoundTrip(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	minimal := storage.IdentityProvider{PoolID: "pool-1", Name: "Minimal", Type: "SAML", CreatedAt: base, UpdatedAt: base}
	zoned := idpRecord("pool-1", "Zoned")
	zoned.CreatedAt = zoned.CreatedAt.In(elsewhere)
	for _, p := range []storage.IdentityProvider{idpRecord("pool-1", "Upstream"), minimal, zoned} {
		t.Run(p.Name, func(t *testing.T) {
			must(t, s.CreateIdentityProvider(ctx, p))
			got, err := s.GetIdentityProvider(ctx, p.PoolID, p.Name)
			must(t, err)
			check(t, "GetIdentityProvider", got, p)
		})
	}
	want := idpRecord("pool-1", "Upstream")
	want.Details = map[string]string{"client_id": "other"}
	want.Identifiers = nil
	want.UpdatedAt = base.Add(time.Hour)
	must(t, s.UpdateIdentityProvider(ctx, "pool-1", "Upstream", func(p storage.IdentityProvider) (storage.IdentityProvider, error) {
		p.Details, p.Identifiers, p.UpdatedAt = want.Details, nil, want.UpdatedAt
		return p, nil
	}))
	got, err := s.GetIdentityProvider(ctx, "pool-1", "Upstream")
	must(t, err)
	check(t, "after update", got, want)
	err = s.UpdateIdentityProvider(ctx, "pool-1", "Upstream", func(p storage.IdentityProvider) (storage.IdentityProvider, error) {
		p.Type = "changed"
		return p, errUpdater
	})
	wantErr(t, "failed updater", err, errUpdater)
	got, err = s.GetIdentityProvider(ctx, "pool-1", "Upstream")
	must(t, err)
	check(t, "after failed update", got, want)
}

func testIDPList(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	must(t, s.CreatePool(ctx, poolRecord("pool-2")))
	// Bytewise order: upper case before lower case.
	names := []string{"Google", "OIDC-b", "Upstream", "a-lower"}
	for _, n := range []string{names[2], names[0], names[3], names[1]} {
		must(t, s.CreateIdentityProvider(ctx, idpRecord("pool-1", n)))
	}
	must(t, s.CreateIdentityProvider(ctx, idpRecord("pool-2", "Elsewhere")))
	cases := []struct {
		after string
		limit int
		want  []string
	}{
		{"", 0, names},
		{"", 2, names[:2]},
		{"OIDC-b", 2, names[2:]},
		{"a-lower", 5, nil},
	}
	for _, c := range cases {
		got, err := s.ListIdentityProviders(ctx, "pool-1", c.after, c.limit)
		must(t, err)
		var gotNames []string
		for _, p := range got {
			gotNames = append(gotNames, p.Name)
		}
		check(t, "ListIdentityProviders after "+c.after, gotNames, c.want)
	}
}

func testIDPErrors(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	must(t, s.CreateIdentityProvider(ctx, idpRecord("pool-1", "Upstream")))
	wantErr(t, "duplicate", s.CreateIdentityProvider(ctx, idpRecord("pool-1", "Upstream")), storage.ErrAlreadyExists)
	wantErr(t, "missing pool", s.CreateIdentityProvider(ctx, idpRecord("pool-9", "Upstream")), storage.ErrNotFound)
	_, err := s.GetIdentityProvider(ctx, "pool-1", "Nope")
	wantErr(t, "get unknown", err, storage.ErrNotFound)
	err = s.UpdateIdentityProvider(ctx, "pool-1", "Nope", func(p storage.IdentityProvider) (storage.IdentityProvider, error) { return p, nil })
	wantErr(t, "update unknown", err, storage.ErrNotFound)
	wantErr(t, "delete unknown", s.DeleteIdentityProvider(ctx, "pool-1", "Nope"), storage.ErrNotFound)
}

func testFederatedLinks(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	must(t, s.CreateUser(ctx, userRecord("pool-1", "bob")))
	must(t, s.CreateIdentityProvider(ctx, idpRecord("pool-1", "Upstream")))
	link := func(provider, subject, username string) storage.FederatedLink {
		return storage.FederatedLink{PoolID: "pool-1", ProviderName: provider, Subject: subject, Username: username, CreatedAt: base}
	}
	aliceUp, aliceOther, bobUp := link("Upstream", "s-1", "alice"), link("Other", "s-9", "alice"), link("Upstream", "s-2", "bob")
	for _, l := range []storage.FederatedLink{aliceUp, aliceOther, bobUp} {
		must(t, s.CreateFederatedLink(ctx, l))
	}
	wantErr(t, "subject linked twice", s.CreateFederatedLink(ctx, link("Upstream", "s-1", "bob")), storage.ErrAlreadyExists)
	wantErr(t, "missing user", s.CreateFederatedLink(ctx, link("Upstream", "s-3", "carol")), storage.ErrNotFound)
	got, err := s.GetFederatedLink(ctx, "pool-1", "Upstream", "s-1")
	must(t, err)
	check(t, "GetFederatedLink", got, aliceUp)
	_, err = s.GetFederatedLink(ctx, "pool-2", "Upstream", "s-1")
	wantErr(t, "other pool", err, storage.ErrNotFound)
	list, err := s.ListFederatedLinks(ctx, "pool-1", "alice")
	must(t, err)
	check(t, "ListFederatedLinks", list, []storage.FederatedLink{aliceOther, aliceUp})

	// Deleting the provider removes its links, not the other provider's.
	must(t, s.DeleteIdentityProvider(ctx, "pool-1", "Upstream"))
	_, err = s.GetFederatedLink(ctx, "pool-1", "Upstream", "s-2")
	wantErr(t, "link of deleted provider", err, storage.ErrNotFound)
	list, err = s.ListFederatedLinks(ctx, "pool-1", "alice")
	must(t, err)
	check(t, "links after provider deletion", list, []storage.FederatedLink{aliceOther})

	// Deleting the user removes its links; deleting a link twice fails.
	must(t, s.DeleteUser(ctx, "pool-1", "alice"))
	_, err = s.GetFederatedLink(ctx, "pool-1", "Other", "s-9")
	wantErr(t, "link of deleted user", err, storage.ErrNotFound)
	must(t, s.CreateFederatedLink(ctx, link("Other", "s-8", "bob")))
	must(t, s.DeleteFederatedLink(ctx, "pool-1", "Other", "s-8"))
	wantErr(t, "delete twice", s.DeleteFederatedLink(ctx, "pool-1", "Other", "s-8"), storage.ErrNotFound)
}
