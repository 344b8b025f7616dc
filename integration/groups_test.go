package integration_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestGroups covers CreateGroup, ListGroups, AdminAddUserToGroup,
// AdminRemoveUserFromGroup, AdminListGroupsForUser and cognito:groups in
// tokens.
func TestGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	groups := []struct {
		name       string
		precedence *int32
	}{
		{"admins", aws.Int32(5)}, {"editors", aws.Int32(1)}, {"readers", nil}, {"ops", aws.Int32(3)}, {"auditors", nil},
	}
	for _, g := range groups {
		out := must(e.api.CreateGroup(e.ctx, &cip.CreateGroupInput{
			UserPoolId: aws.String(e.pool), GroupName: aws.String(g.name), Precedence: g.precedence, Description: aws.String("the " + g.name),
		}))(t)
		if aws.ToString(out.Group.GroupName) != g.name || aws.ToString(out.Group.UserPoolId) != e.pool {
			t.Fatalf("created %+v", out.Group)
		}
	}
	_, err := e.api.CreateGroup(e.ctx, &cip.CreateGroupInput{UserPoolId: aws.String(e.pool), GroupName: aws.String("admins")})
	wantErr(t, err, "GroupExistsException")
	_, err = e.api.CreateGroup(e.ctx, &cip.CreateGroupInput{UserPoolId: aws.String(e.pool), GroupName: aws.String("neg"), Precedence: aws.Int32(-1)})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.api.CreateGroup(e.ctx, &cip.CreateGroupInput{UserPoolId: aws.String("us-east-1_Missing1"), GroupName: aws.String("x")})
	wantErr(t, err, "ResourceNotFoundException")

	t.Run("ListGroups", func(t *testing.T) {
		var names []string
		pages := 0
		pg := cip.NewListGroupsPaginator(e.api, &cip.ListGroupsInput{UserPoolId: aws.String(e.pool), Limit: aws.Int32(2)})
		for pg.HasMorePages() {
			page := must(pg.NextPage(e.ctx))(t)
			if len(page.Groups) > 2 {
				t.Fatalf("page of %d", len(page.Groups))
			}
			for _, g := range page.Groups {
				names = append(names, aws.ToString(g.GroupName))
			}
			if pages++; pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
		if want := []string{"admins", "auditors", "editors", "ops", "readers"}; !slices.Equal(names, want) {
			t.Fatalf("groups %v, want %v", names, want)
		}
	})

	sub := e.signUp(e.pub, "member@example.com")
	for _, g := range groups {
		must(e.api.AdminAddUserToGroup(e.ctx, &cip.AdminAddUserToGroupInput{
			UserPoolId: aws.String(e.pool), Username: aws.String("member@example.com"), GroupName: aws.String(g.name),
		}))(t)
	}
	// Adding twice is harmless.
	must(e.api.AdminAddUserToGroup(e.ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub), GroupName: aws.String("ops")}))(t)
	_, err = e.api.AdminAddUserToGroup(e.ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub), GroupName: aws.String("nosuch")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.api.AdminAddUserToGroup(e.ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(e.pool), Username: aws.String("ghost@example.com"), GroupName: aws.String("ops")})
	wantErr(t, err, "UserNotFoundException")

	listFor := func() []string {
		t.Helper()
		var names []string
		pg := cip.NewAdminListGroupsForUserPaginator(e.api, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub), Limit: aws.Int32(2)})
		for pg.HasMorePages() {
			for _, g := range must(pg.NextPage(e.ctx))(t).Groups {
				names = append(names, aws.ToString(g.GroupName))
			}
		}
		return names
	}
	// Precedence order, lowest first; groups without one last.
	want := []string{"editors", "ops", "admins", "auditors", "readers"}
	if got := listFor(); !slices.Equal(got, want) {
		t.Fatalf("AdminListGroupsForUser %v, want %v", got, want)
	}
	tokenGroups := func(tok *types.AuthenticationResultType) (access, id []string) {
		t.Helper()
		for i, jwt := range []*string{tok.AccessToken, tok.IdToken} {
			raw, ok := claims(t, aws.ToString(jwt))["cognito:groups"]
			var names []string
			if ok {
				for _, g := range raw.([]any) {
					names = append(names, g.(string))
				}
			}
			if i == 0 {
				access = names
			} else {
				id = names
			}
		}
		return access, id
	}
	tok := e.signIn(e.pub, "member@example.com", password)
	if a, i := tokenGroups(tok); !slices.Equal(a, want) || !slices.Equal(i, want) {
		t.Fatalf("cognito:groups access %v id %v, want %v", a, i, want)
	}

	must(e.api.AdminRemoveUserFromGroup(e.ctx, &cip.AdminRemoveUserFromGroupInput{
		UserPoolId: aws.String(e.pool), Username: aws.String("member@example.com"), GroupName: aws.String("editors"),
	}))(t)
	want = want[1:]
	if got := listFor(); !slices.Equal(got, want) {
		t.Fatalf("after removal %v, want %v", got, want)
	}
	// Tokens minted from now on, by sign-in or refresh, follow.
	for _, next := range []*types.AuthenticationResultType{e.signIn(e.pub, "member@example.com", password), must(e.refresh(e.pub, "", tok.RefreshToken))(t)} {
		if a, i := tokenGroups(next); !slices.Equal(a, want) || !slices.Equal(i, want) {
			t.Fatalf("cognito:groups access %v id %v, want %v", a, i, want)
		}
	}
	for _, g := range want {
		must(e.api.AdminRemoveUserFromGroup(e.ctx, &cip.AdminRemoveUserFromGroupInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub), GroupName: aws.String(g)}))(t)
	}
	if a, i := tokenGroups(e.signIn(e.pub, "member@example.com", password)); a != nil || i != nil {
		t.Fatalf("groups %v %v after leaving all", a, i)
	}
	_, err = e.api.AdminRemoveUserFromGroup(e.ctx, &cip.AdminRemoveUserFromGroupInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub), GroupName: aws.String("nosuch")})
	wantErr(t, err, "ResourceNotFoundException")
}
