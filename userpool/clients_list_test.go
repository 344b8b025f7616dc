package userpool_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/userpool"
)

// TestListUserPoolClients: ListUserPoolClients pages a pool's clients by
// id, each exactly once, applies Cognito's constraints to its members in
// AWS's words, and answers ResourceNotFoundException for an unknown pool.
func TestListUserPoolClients(t *testing.T) {
	e := newEnv(t, nil)
	p, err := e.svc.CreateUserPool(e.ctx, userpool.CreateUserPoolInput{PoolName: "five"})
	if err != nil {
		t.Fatal(err)
	}
	pool := p.UserPool.Id
	names := map[string]string{} // client id → name
	for i := range 5 {
		name := fmt.Sprintf("app-%d", i)
		c, err := e.svc.CreateUserPoolClient(e.ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{UserPoolId: pool, ClientName: name}})
		if err != nil {
			t.Fatal(err)
		}
		names[c.UserPoolClient.ClientId] = name
	}
	ids := make([]string, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	empty, err := e.svc.CreateUserPool(e.ctx, userpool.CreateUserPoolInput{PoolName: "empty"})
	if err != nil {
		t.Fatal(err)
	}

	n := func(v int) *int { return &v }
	s := func(v string) *string { return &v }
	const invalid = "1 validation error detected: "
	long := "us-east-1_" + strings.Repeat("a", 46) // 56 characters
	tests := []struct {
		name string
		in   userpool.ListUserPoolClientsInput
		// pages are the client ids of each page, the request repeated
		// with each NextToken until there is none.
		pages [][]string
		// err is the exception's type and msg its whole message.
		err, msg string
	}{
		{name: "pages of 2", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, MaxResults: n(2)},
			pages: [][]string{ids[0:2], ids[2:4], ids[4:5]}},
		{name: "one page exactly full", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, MaxResults: n(5)},
			pages: [][]string{ids}},
		{name: "pages of 1", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, MaxResults: n(1)},
			pages: [][]string{ids[0:1], ids[1:2], ids[2:3], ids[3:4], ids[4:5]}},
		{name: "pages of 60", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, MaxResults: n(60)},
			pages: [][]string{ids}},
		{name: "MaxResults left out", in: userpool.ListUserPoolClientsInput{UserPoolId: pool},
			pages: [][]string{ids}},
		{name: "from a token", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, MaxResults: n(2), NextToken: s(ids[1])},
			pages: [][]string{ids[2:4], ids[4:5]}},
		{name: "token past the end", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, NextToken: s(ids[4])},
			pages: [][]string{{}}},
		{name: "pool without clients", in: userpool.ListUserPoolClientsInput{UserPoolId: empty.UserPool.Id, MaxResults: n(10)},
			pages: [][]string{{}}},
		{name: "another pool's clients", in: userpool.ListUserPoolClientsInput{UserPoolId: e.poolID},
			pages: [][]string{{e.client}}},
		{name: "MaxResults 0", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, MaxResults: n(0)},
			err: "InvalidParameterException", msg: invalid + "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{name: "MaxResults 61", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, MaxResults: n(61)},
			err: "InvalidParameterException", msg: invalid + "Value '61' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 60"},
		{name: "MaxResults -1", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, MaxResults: n(-1)},
			err: "InvalidParameterException", msg: invalid + "Value '-1' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{name: "no pool", in: userpool.ListUserPoolClientsInput{MaxResults: n(2)},
			err: "InvalidParameterException", msg: invalid + "Value null at 'userPoolId' failed to satisfy constraint: Member must not be null"},
		{name: "pool id pattern", in: userpool.ListUserPoolClientsInput{UserPoolId: "us-east-1_abc-def"},
			err: "InvalidParameterException", msg: invalid + `Value 'us-east-1_abc-def' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]+_[0-9a-zA-Z]+`},
		{name: "pool id length", in: userpool.ListUserPoolClientsInput{UserPoolId: long},
			err: "InvalidParameterException", msg: invalid + "Value '" + long + "' at 'userPoolId' failed to satisfy constraint: Member must have length less than or equal to 55"},
		{name: "empty token", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, NextToken: s("")},
			err: "InvalidParameterException", msg: invalid + "Value '' at 'nextToken' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "token with a space", in: userpool.ListUserPoolClientsInput{UserPoolId: pool, NextToken: s("a b")},
			err: "InvalidParameterException", msg: invalid + `Value 'a b' at 'nextToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [\S]+`},
		{name: "every violation", in: userpool.ListUserPoolClientsInput{UserPoolId: "x", MaxResults: n(0), NextToken: s("\v")},
			err: "InvalidParameterException", msg: "3 validation errors detected: " +
				`Value 'x' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]+_[0-9a-zA-Z]+; ` +
				"Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '\v' at 'nextToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\S]+"},
		{name: "unknown pool", in: userpool.ListUserPoolClientsInput{UserPoolId: "us-east-1_nosuchpool", MaxResults: n(2)},
			err: "ResourceNotFoundException", msg: "User pool us-east-1_nosuchpool does not exist."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			var got [][]string
			for {
				out, err := e.svc.ListUserPoolClients(e.ctx, in)
				if tt.err != "" {
					var ue *userpool.Error
					if !errors.As(err, &ue) || ue.Type != tt.err || ue.Message != tt.msg {
						t.Fatalf("err = %v, want %s: %s", err, tt.err, tt.msg)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if out.UserPoolClients == nil {
					t.Fatal("UserPoolClients is nil: it would be sent as null, not []")
				}
				page := []string{}
				for _, c := range out.UserPoolClients {
					page = append(page, c.ClientId)
					if c.UserPoolId != in.UserPoolId {
						t.Errorf("client %s of pool %s listed in %s", c.ClientId, c.UserPoolId, in.UserPoolId)
					}
					if want, ok := names[c.ClientId]; ok && c.ClientName != want {
						t.Errorf("client %s named %q, want %q", c.ClientId, c.ClientName, want)
					}
				}
				got = append(got, page)
				if len(got) > len(ids)+1 {
					t.Fatalf("paging does not end: %v", got)
				}
				if out.NextToken == "" {
					break
				}
				in.NextToken = &out.NextToken
			}
			if !slices.EqualFunc(got, tt.pages, slices.Equal) {
				t.Fatalf("pages %v, want %v", got, tt.pages)
			}
		})
	}
}

// TestListUserPoolClientsWhilePaging: a client created between two pages
// neither shifts the pages (no client is skipped or listed twice) nor is
// lost if its id sorts after the token.
func TestListUserPoolClientsWhilePaging(t *testing.T) {
	e := newEnv(t, nil)
	p, err := e.svc.CreateUserPool(e.ctx, userpool.CreateUserPoolInput{PoolName: "growing"})
	if err != nil {
		t.Fatal(err)
	}
	pool := p.UserPool.Id
	add := func(id string) {
		t.Helper()
		if _, err := e.svc.CreateUserPoolClientWithID(e.ctx, id, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{UserPoolId: pool, ClientName: id}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"b", "d", "f", "h", "j"} {
		add(id)
	}
	two := 2
	in := userpool.ListUserPoolClientsInput{UserPoolId: pool, MaxResults: &two}
	var got []string
	for page := 0; ; page++ {
		out, err := e.svc.ListUserPoolClients(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range out.UserPoolClients {
			got = append(got, c.ClientId)
		}
		if page == 0 {
			add("a") // before the token: not listed
			add("e") // after it: listed once
		}
		if out.NextToken == "" || page > 10 {
			break
		}
		in.NextToken = &out.NextToken
	}
	if want := []string{"b", "d", "e", "f", "h", "j"}; !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}
