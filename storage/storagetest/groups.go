package storagetest

import (
	"sort"
	"testing"

	"github.com/cognate-auth/cognate/storage"
)

var groupTests = []test{
	{"Group/RoundTrip", testGroupRoundTrip},
	{"Group/List", testListGroups},
	{"Group/Membership", testMembership},
	{"Group/ListForUserOrder", testListGroupsForUserOrder},
}

func testGroupRoundTrip(t *testing.T, s storage.Storage) {
	must(t, s.CreatePool(t.Context(), poolRecord("pool-1")))
	zoned := groupRecord("pool-1", "zoned", ptr[int64](-3))
	zoned.CreatedAt, zoned.UpdatedAt = zoned.CreatedAt.In(elsewhere), zoned.UpdatedAt.In(elsewhere)
	for _, g := range []storage.Group{
		groupRecord("pool-1", "precedence", ptr[int64](10)),
		// Precedence 0 is a precedence, not "none".
		groupRecord("pool-1", "zero", ptr[int64](0)),
		groupRecord("pool-1", "none", nil),
		{PoolID: "pool-1", Name: "minimal"},
		zoned,
	} {
		t.Run(g.Name, func(t *testing.T) {
			must(t, s.CreateGroup(t.Context(), g))
			got, err := s.GetGroup(t.Context(), g.PoolID, g.Name)
			must(t, err)
			check(t, "GetGroup", got, g)
		})
	}
}

func testListGroups(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	must(t, s.CreatePool(ctx, poolRecord("pool-2")))
	want := []storage.Group{groupRecord("pool-1", "a", nil), groupRecord("pool-1", "b", ptr[int64](2))}
	for _, g := range []storage.Group{want[1], groupRecord("pool-2", "a", nil), want[0]} {
		must(t, s.CreateGroup(ctx, g))
	}
	got, err := s.ListGroups(ctx, "pool-1")
	must(t, err)
	sort.Slice(got, func(i, j int) bool { return got[i].Name < got[j].Name })
	check(t, "ListGroups", got, want)
}

func testMembership(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s) // alice is in admins
	readers := groupRecord("pool-1", "readers", ptr[int64](5))
	must(t, s.CreateGroup(ctx, readers))
	must(t, s.CreateGroup(ctx, groupRecord("pool-1", "others", nil)))
	listed := func(what string, want ...storage.Group) {
		t.Helper()
		got, err := s.ListGroupsForUser(ctx, "pool-1", "alice")
		must(t, err)
		check(t, what, got, want)
	}
	for _, step := range []struct {
		name   string
		do     func() error
		groups []storage.Group
	}{
		{"add again", func() error { return s.AddUserToGroup(ctx, "pool-1", "alice", "admins") }, []storage.Group{f.group}},
		{"add another", func() error { return s.AddUserToGroup(ctx, "pool-1", "alice", "readers") }, []storage.Group{f.group, readers}},
		{"remove", func() error { return s.RemoveUserFromGroup(ctx, "pool-1", "alice", "admins") }, []storage.Group{readers}},
		{"remove again", func() error { return s.RemoveUserFromGroup(ctx, "pool-1", "alice", "admins") }, []storage.Group{readers}},
		{"remove never added", func() error { return s.RemoveUserFromGroup(ctx, "pool-1", "alice", "others") }, []storage.Group{readers}},
	} {
		must(t, step.do())
		listed("ListGroupsForUser after "+step.name, step.groups...)
	}
}

func testListGroupsForUserOrder(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s) // alice is in admins, precedence 1
	// Lowest precedence first, groups without one last, ties by name.
	want := []storage.Group{
		groupRecord("pool-1", "negative", ptr[int64](-1)),
		groupRecord("pool-1", "zero", ptr[int64](0)),
		groupRecord("pool-1", "admins", ptr[int64](1)),
		groupRecord("pool-1", "b-one", ptr[int64](1)),
		groupRecord("pool-1", "hundred", ptr[int64](100)),
		groupRecord("pool-1", "a-none", nil),
		groupRecord("pool-1", "z-none", nil),
	}
	for _, i := range []int{5, 4, 0, 6, 3, 1} { // all but admins, shuffled
		must(t, s.CreateGroup(ctx, want[i]))
		must(t, s.AddUserToGroup(ctx, "pool-1", "alice", want[i].Name))
	}
	got, err := s.ListGroupsForUser(ctx, "pool-1", "alice")
	must(t, err)
	check(t, "ListGroupsForUser", got, want)
}
