package integration_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// TestListUserPoolClients drives ListUserPoolClients through the SDK's
// paginator: five clients in pages of two, each listed exactly once with
// its name and pool, then the bounds of MaxResults, an unknown pool, the
// wire shape of an empty list, and SigV4.
func TestListUserPoolClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool := aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("clients")}))(t).UserPool.Id)
	want := map[string]string{} // client id → name
	for i := range 5 {
		name := fmt.Sprintf("app-%d", i)
		c := must(e.api.CreateUserPoolClient(e.ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(pool), ClientName: aws.String(name)}))(t)
		want[aws.ToString(c.UserPoolClient.ClientId)] = name
	}

	t.Run("paginator", func(t *testing.T) {
		seen := map[string]int{}
		var order []string
		pages := 0
		pg := cip.NewListUserPoolClientsPaginator(e.api, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(pool), MaxResults: aws.Int32(2)})
		for pg.HasMorePages() {
			page := must(pg.NextPage(e.ctx))(t)
			if pages++; pages > 10 {
				t.Fatal("pagination does not end")
			}
			if len(page.UserPoolClients) > 2 {
				t.Fatalf("page of %d clients, MaxResults 2", len(page.UserPoolClients))
			}
			for _, c := range page.UserPoolClients {
				id := aws.ToString(c.ClientId)
				seen[id]++
				order = append(order, id)
				if got := aws.ToString(c.UserPoolId); got != pool {
					t.Errorf("client %s: UserPoolId %s, want %s", id, got, pool)
				}
				if got := aws.ToString(c.ClientName); got != want[id] {
					t.Errorf("client %s: ClientName %q, want %q", id, got, want[id])
				}
			}
		}
		if pages != 3 {
			t.Errorf("%d pages for 5 clients in pages of 2, want 3", pages)
		}
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("client %s listed %d times", id, seen[id])
			}
		}
		if len(order) != len(want) {
			t.Errorf("listed %v, want the %d clients %v", order, len(want), want)
		}
		if !slices.IsSorted(order) {
			t.Errorf("listed in the order %v, not by client id", order)
		}
	})

	t.Run("one page", func(t *testing.T) {
		out := must(e.api.ListUserPoolClients(e.ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(pool)}))(t)
		if len(out.UserPoolClients) != 5 || out.NextToken != nil {
			t.Fatalf("%d clients and NextToken %v without MaxResults, want 5 and none", len(out.UserPoolClients), aws.ToString(out.NextToken))
		}
		out = must(e.api.ListUserPoolClients(e.ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(pool), MaxResults: aws.Int32(5)}))(t)
		if len(out.UserPoolClients) != 5 || out.NextToken != nil {
			t.Fatalf("%d clients and NextToken %v with MaxResults 5, want 5 and none", len(out.UserPoolClients), aws.ToString(out.NextToken))
		}
	})

	t.Run("bounds", func(t *testing.T) {
		for _, n := range []int32{1, 60} {
			must(e.api.ListUserPoolClients(e.ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(pool), MaxResults: aws.Int32(n)}))(t)
		}
		for n, msg := range map[int32]string{
			0:  "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
			-1: "1 validation error detected: Value '-1' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
			61: "1 validation error detected: Value '61' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 60",
		} {
			_, err := e.api.ListUserPoolClients(e.ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(pool), MaxResults: aws.Int32(n)})
			wantMessage(t, err, "InvalidParameterException", msg)
		}
		_, err := e.api.ListUserPoolClients(e.ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String("not a pool id")})
		wantMessage(t, err, "InvalidParameterException",
			`1 validation error detected: Value 'not a pool id' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]+_[0-9a-zA-Z]+`)
		// The SDK refuses to send a request without UserPoolId.
		r := e.signedRaw("ListUserPoolClients", []byte(`{"MaxResults":2}`))
		wantRaw(t, r, 400, "InvalidParameterException")
		if want := "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null"; r.msg != want {
			t.Fatalf("message %q, want %q", r.msg, want)
		}
	})

	t.Run("unknown pool", func(t *testing.T) {
		_, err := e.api.ListUserPoolClients(e.ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String("us-east-1_NoSuchPool"), MaxResults: aws.Int32(2)})
		wantMessage(t, err, "ResourceNotFoundException", "User pool us-east-1_NoSuchPool does not exist.")
	})

	t.Run("wire shape", func(t *testing.T) {
		empty := aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("empty")}))(t).UserPool.Id)
		r := e.signedRaw("ListUserPoolClients", []byte(`{"UserPoolId":"`+empty+`"}`))
		if r.status != 200 || string(r.body) != `{"UserPoolClients":[]}`+"\n" {
			t.Fatalf("empty pool: %d %s, want 200 {\"UserPoolClients\":[]}", r.status, r.body)
		}
		r = e.signedRaw("ListUserPoolClients", []byte(`{"UserPoolId":"`+pool+`","MaxResults":1}`))
		var out map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &out); err != nil || r.status != 200 {
			t.Fatalf("%d %s: %v", r.status, r.body, err)
		}
		var entries []map[string]string
		if err := json.Unmarshal(out["UserPoolClients"], &entries); err != nil || len(entries) != 1 || len(out) != 2 || out["NextToken"] == nil {
			t.Fatalf("body %s, want one client and a NextToken", r.body)
		}
		if e0 := entries[0]; len(e0) != 3 || e0["ClientId"] == "" || e0["ClientName"] == "" || e0["UserPoolId"] != pool {
			t.Fatalf("entry %v, want exactly ClientId, ClientName and UserPoolId", e0)
		}
	})

	t.Run("signed", func(t *testing.T) {
		body := []byte(`{"UserPoolId":"` + pool + `"}`)
		wantRaw(t, e.raw(targetPrefix+"ListUserPoolClients", body), 400, "MissingAuthenticationTokenException")
		_, err := e.sdk(e.creds.AccessKeyID, e.creds.SecretAccessKey+"x").ListUserPoolClients(e.ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(pool)})
		wantErr(t, err, "InvalidSignatureException")
	})
}
