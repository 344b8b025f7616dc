package storagetest

import (
	"sort"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var poolTests = []test{
	{"Pool/RoundTrip", testPoolRoundTrip},
	{"Pool/List", testListPools},
	{"Pool/Update", testUpdatePool},
	{"Client/RoundTrip", testClientRoundTrip},
	{"Client/List", testListClients},
	{"Client/Update", testUpdateClient},
}

func testPoolRoundTrip(t *testing.T, s storage.Storage) {
	zoned := poolRecord("zoned")
	zoned.CreatedAt, zoned.UpdatedAt = base.In(elsewhere), base.Add(time.Hour).In(elsewhere)
	for _, p := range []storage.Pool{poolRecord("full"), {ID: "minimal"}, zoned} {
		t.Run(p.ID, func(t *testing.T) {
			must(t, s.CreatePool(t.Context(), p))
			got, err := s.GetPool(t.Context(), p.ID)
			must(t, err)
			check(t, "GetPool", got, p)
		})
	}
}

func testListPools(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	got, err := s.ListPools(ctx)
	must(t, err)
	check(t, "ListPools on an empty store", got, nil)

	var want []storage.Pool
	for _, id := range []string{"b", "c", "a"} {
		p := poolRecord(id)
		must(t, s.CreatePool(ctx, p))
		want = append(want, p)
	}
	got, err = s.ListPools(ctx)
	must(t, err)
	// The interface promises no order.
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	check(t, "ListPools", got, want)
}

func testUpdatePool(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	p := poolRecord("pool-1")
	must(t, s.CreatePool(ctx, p))
	want := p
	want.Name = "Renamed"
	want.UpdatedAt = base.Add(time.Hour)
	want.Settings.PasswordPolicy.MinimumLength = 20
	want.Settings.Schema = nil
	want.Settings.Domain = ""
	must(t, s.UpdatePool(ctx, p.ID, func(got storage.Pool) (storage.Pool, error) {
		check(t, "updater argument", got, p)
		return want, nil
	}))
	got, err := s.GetPool(ctx, p.ID)
	must(t, err)
	check(t, "GetPool after UpdatePool", got, want)
}

func testClientRoundTrip(t *testing.T, s storage.Storage) {
	must(t, s.CreatePool(t.Context(), poolRecord("pool-1")))
	for _, c := range []storage.Client{clientRecord("pool-1", "full"), {ClientID: "minimal", PoolID: "pool-1"}} {
		t.Run(c.ClientID, func(t *testing.T) {
			must(t, s.CreateClient(t.Context(), c))
			got, err := s.GetClient(t.Context(), c.ClientID)
			must(t, err)
			check(t, "GetClient", got, c)
		})
	}
}

func testListClients(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	must(t, s.CreatePool(ctx, poolRecord("pool-2")))
	want := []storage.Client{clientRecord("pool-1", "a"), clientRecord("pool-1", "b")}
	for _, c := range []storage.Client{want[1], clientRecord("pool-2", "c"), want[0]} {
		must(t, s.CreateClient(ctx, c))
	}
	got, err := s.ListClients(ctx, "pool-1")
	must(t, err)
	sort.Slice(got, func(i, j int) bool { return got[i].ClientID < got[j].ClientID })
	check(t, "ListClients", got, want)

	got, err = s.ListClients(ctx, "no-such-pool")
	must(t, err)
	check(t, "ListClients of an unknown pool", got, nil)
}

func testUpdateClient(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	c := clientRecord("pool-1", "client-1")
	must(t, s.CreateClient(ctx, c))
	want := c
	want.Name = "Renamed"
	want.Secret = ""
	want.UpdatedAt = base.Add(time.Hour)
	want.Settings.CallbackURLs = append(want.Settings.CallbackURLs, "https://other.example.com/cb")
	want.Settings.EnableTokenRevocation = false
	must(t, s.UpdateClient(ctx, c.ClientID, func(got storage.Client) (storage.Client, error) {
		check(t, "updater argument", got, c)
		return want, nil
	}))
	got, err := s.GetClient(ctx, c.ClientID)
	must(t, err)
	check(t, "GetClient after UpdateClient", got, want)
}
