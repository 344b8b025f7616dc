package integration_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestAdminCreateUser covers AdminCreateUser with a given and a generated
// temporary password, NEW_PASSWORD_REQUIRED through both sign-in flows,
// AdminGetUser by email and by username, and AdminDeleteUser.
func TestAdminCreateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const temp = "Temp-Pass-123"
	out := must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(e.pool), Username: aws.String("new@example.com"), TemporaryPassword: aws.String(temp),
		UserAttributes: []types.AttributeType{attrT("email", "new@example.com"), attrT("given_name", "Nia")},
	}))(t).User
	username := aws.ToString(out.Username)
	if out.UserStatus != types.UserStatusTypeForceChangePassword || !out.Enabled {
		t.Fatalf("created %s enabled=%v", out.UserStatus, out.Enabled)
	}
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(username) {
		t.Fatalf("username %q in an email pool, want the sub", username)
	}
	if sub, _ := attr(out.Attributes, "sub"); sub != username {
		t.Fatalf("sub %q username %q", sub, username)
	}
	if got := e.code("new@example.com", "admin_create_user"); got != temp {
		t.Fatalf("invitation carries %q, want the temporary password", got)
	}

	_, err := e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(e.pool), Username: aws.String("new@example.com"), TemporaryPassword: aws.String(temp),
	})
	wantErr(t, err, "UsernameExistsException")

	for _, name := range []string{"new@example.com", "NEW@example.com", username} {
		g := must(e.adminGet(e.pool, name))(t)
		if aws.ToString(g.Username) != username || g.UserStatus != types.UserStatusTypeForceChangePassword {
			t.Fatalf("AdminGetUser(%s) = %s %s", name, aws.ToString(g.Username), g.UserStatus)
		}
		if v, _ := attr(g.UserAttributes, "given_name"); v != "Nia" {
			t.Fatalf("given_name %q", v)
		}
	}
	_, err = e.adminGet(e.pool, "nobody@example.com")
	wantErr(t, err, "UserNotFoundException")

	t.Run("NEW_PASSWORD_REQUIRED via USER_PASSWORD_AUTH", func(t *testing.T) {
		ia := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(e.pub), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "new@example.com", "PASSWORD": temp},
		}))(t)
		if ia.ChallengeName != types.ChallengeNameTypeNewPasswordRequired || aws.ToString(ia.Session) == "" || ia.AuthenticationResult != nil {
			t.Fatalf("got %q session %q", ia.ChallengeName, aws.ToString(ia.Session))
		}
		if ia.ChallengeParameters["USER_ID_FOR_SRP"] != username {
			t.Errorf("USER_ID_FOR_SRP %q", ia.ChallengeParameters["USER_ID_FOR_SRP"])
		}
		// A new password against the policy is refused and leaves the
		// session usable.
		_, err := e.respond(e.pub, types.ChallengeNameTypeNewPasswordRequired, ia.Session,
			map[string]string{"USERNAME": username, "NEW_PASSWORD": "weak"})
		wantErr(t, err, "InvalidPasswordException")
		_, err = e.respond(e.pub, types.ChallengeNameTypeNewPasswordRequired, aws.String(aws.ToString(ia.Session)+"x"),
			map[string]string{"USERNAME": username, "NEW_PASSWORD": password})
		wantErr(t, err, "NotAuthorizedException")
		other, _ := e.newClient(e.pool)
		_, err = e.respond(other, types.ChallengeNameTypeNewPasswordRequired, ia.Session,
			map[string]string{"USERNAME": username, "NEW_PASSWORD": password})
		wantErr(t, err, "NotAuthorizedException")
		done := must(e.respond(e.pub, types.ChallengeNameTypeNewPasswordRequired, ia.Session,
			map[string]string{"USERNAME": username, "NEW_PASSWORD": password, "userAttributes.family_name": "Ng"}))(t)
		if done.AuthenticationResult == nil || aws.ToString(done.AuthenticationResult.AccessToken) == "" {
			t.Fatal("no tokens after NEW_PASSWORD_REQUIRED")
		}
		g := must(e.adminGet(e.pool, username))(t)
		if g.UserStatus != types.UserStatusTypeConfirmed {
			t.Fatalf("status %s after the new password", g.UserStatus)
		}
		if v, _ := attr(g.UserAttributes, "family_name"); v != "Ng" {
			t.Errorf("family_name %q", v)
		}
		// The session is spent: the user is no longer in FORCE_CHANGE_PASSWORD.
		_, err = e.respond(e.pub, types.ChallengeNameTypeNewPasswordRequired, ia.Session,
			map[string]string{"USERNAME": username, "NEW_PASSWORD": password2})
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.passwordAuth(e.pub, "new@example.com", temp)
		wantErr(t, err, "NotAuthorizedException")
		e.signIn(e.pub, "new@example.com", password)
	})

	t.Run("generated password via SRP", func(t *testing.T) {
		g := must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(e.pool), Username: aws.String("gen@example.com"),
		}))(t).User
		temp := e.code("gen@example.com", "admin_create_user")
		if len(temp) < 8 {
			t.Fatalf("generated password %q", temp)
		}
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, "gen@example.com", nil))
		r := must(e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(c, cp, temp)))(t)
		if r.ChallengeName != types.ChallengeNameTypeNewPasswordRequired {
			t.Fatalf("challenge %q", r.ChallengeName)
		}
		done := must(e.respond(e.pub, types.ChallengeNameTypeNewPasswordRequired, r.Session,
			map[string]string{"USERNAME": aws.ToString(g.Username), "NEW_PASSWORD": password}))(t)
		if done.AuthenticationResult == nil {
			t.Fatal("no tokens")
		}
	})

	t.Run("suppressed invitation", func(t *testing.T) {
		before := len(e.outbox())
		must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(e.pool), Username: aws.String("quiet@example.com"),
			TemporaryPassword: aws.String(temp), MessageAction: types.MessageActionTypeSuppress,
		}))(t)
		if after := len(e.outbox()); after != before {
			t.Fatalf("SUPPRESS sent %d messages", after-before)
		}
	})

	t.Run("AdminDeleteUser", func(t *testing.T) {
		tok := e.signIn(e.pub, "new@example.com", password)
		must(e.api.AdminDeleteUser(e.ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(e.pool), Username: aws.String("new@example.com")}))(t)
		_, err := e.adminGet(e.pool, username)
		wantErr(t, err, "UserNotFoundException")
		_, err = e.api.AdminDeleteUser(e.ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(username)})
		wantErr(t, err, "UserNotFoundException")
		_, err = e.getUser(tok.AccessToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.refresh(e.pub, "", tok.RefreshToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.passwordAuth(e.pub, "new@example.com", password)
		wantErr(t, err, "NotAuthorizedException")
	})
}

// TestAdminUserState covers AdminConfirmSignUp, AdminSetUserPassword,
// AdminDisableUser, AdminEnableUser and AdminUserGlobalSignOut.
func TestAdminUserState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("AdminConfirmSignUp", func(t *testing.T) {
		must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String("unc@example.com"), Password: aws.String(password)}))(t)
		_, err := e.passwordAuth(e.pub, "unc@example.com", password)
		wantErr(t, err, "UserNotConfirmedException")
		g := must(e.adminGet(e.pool, "unc@example.com"))(t)
		if g.UserStatus != types.UserStatusTypeUnconfirmed {
			t.Fatalf("status %s", g.UserStatus)
		}
		must(e.api.AdminConfirmSignUp(e.ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(e.pool), Username: aws.String("unc@example.com")}))(t)
		g = must(e.adminGet(e.pool, "unc@example.com"))(t)
		if g.UserStatus != types.UserStatusTypeConfirmed {
			t.Fatalf("status %s after AdminConfirmSignUp", g.UserStatus)
		}
		e.signIn(e.pub, "unc@example.com", password)
		_, err = e.api.AdminConfirmSignUp(e.ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(e.pool), Username: aws.String("unc@example.com")})
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.api.AdminConfirmSignUp(e.ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(e.pool), Username: aws.String("ghost@example.com")})
		wantErr(t, err, "UserNotFoundException")
	})

	t.Run("AdminSetUserPassword", func(t *testing.T) {
		e.signUp(e.pub, "pw@example.com")
		set := func(pw string, permanent bool) error {
			_, err := e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{
				UserPoolId: aws.String(e.pool), Username: aws.String("pw@example.com"), Password: aws.String(pw), Permanent: permanent,
			})
			return err
		}
		wantErr(t, set("weak", true), "InvalidPasswordException")
		e.signIn(e.pub, "pw@example.com", password) // unchanged

		if err := set(password2, true); err != nil {
			t.Fatal(err)
		}
		_, err := e.passwordAuth(e.pub, "pw@example.com", password)
		wantErr(t, err, "NotAuthorizedException")
		e.signIn(e.pub, "pw@example.com", password2)
		if g := must(e.adminGet(e.pool, "pw@example.com"))(t); g.UserStatus != types.UserStatusTypeConfirmed {
			t.Fatalf("status %s after a permanent password", g.UserStatus)
		}

		if err := set("Temporary-42", false); err != nil {
			t.Fatal(err)
		}
		if g := must(e.adminGet(e.pool, "pw@example.com"))(t); g.UserStatus != types.UserStatusTypeForceChangePassword {
			t.Fatalf("status %s after a temporary password", g.UserStatus)
		}
		ia := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(e.pub), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "pw@example.com", "PASSWORD": "Temporary-42"},
		}))(t)
		if ia.ChallengeName != types.ChallengeNameTypeNewPasswordRequired {
			t.Fatalf("challenge %q after a temporary password", ia.ChallengeName)
		}
	})

	t.Run("AdminDisableUser and AdminEnableUser", func(t *testing.T) {
		sub := e.signUp(e.pub, "dis@example.com")
		tok := e.signIn(e.pub, "dis@example.com", password)
		must(e.api.AdminDisableUser(e.ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(e.pool), Username: aws.String("dis@example.com")}))(t)

		g := must(e.adminGet(e.pool, sub))(t)
		if g.Enabled {
			t.Fatal("still enabled")
		}
		_, err := e.passwordAuth(e.pub, "dis@example.com", password)
		wantMessage(t, err, "NotAuthorizedException", "User is disabled.")
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, "dis@example.com", nil))
		_, err = e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(c, cp, password))
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.getUser(tok.AccessToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.refresh(e.pub, "", tok.RefreshToken)
		wantErr(t, err, "NotAuthorizedException")

		must(e.api.AdminEnableUser(e.ctx, &cip.AdminEnableUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub)}))(t)
		if g := must(e.adminGet(e.pool, sub))(t); !g.Enabled {
			t.Fatal("still disabled")
		}
		fresh := e.signIn(e.pub, "dis@example.com", password)
		must(e.getUser(fresh.AccessToken))(t)
		// What disabling revoked stays revoked.
		_, err = e.getUser(tok.AccessToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.refresh(e.pub, "", tok.RefreshToken)
		wantErr(t, err, "NotAuthorizedException")
	})

	t.Run("AdminUserGlobalSignOut", func(t *testing.T) {
		e.signUp(e.pub, "gso@example.com")
		other := e.signUp(e.pub, "bystander@example.com")
		a := e.signIn(e.pub, "gso@example.com", password)
		b := e.srpSignIn(e.pool, e.pub, "gso@example.com", password)
		keep := e.signIn(e.pub, "bystander@example.com", password)
		must(e.api.AdminUserGlobalSignOut(e.ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(e.pool), Username: aws.String("gso@example.com")}))(t)
		for _, tok := range []*types.AuthenticationResultType{a, b} {
			_, err := e.getUser(tok.AccessToken)
			wantErr(t, err, "NotAuthorizedException")
			_, err = e.refresh(e.pub, "", tok.RefreshToken)
			wantErr(t, err, "NotAuthorizedException")
		}
		if u := must(e.getUser(keep.AccessToken))(t); aws.ToString(u.Username) != other {
			t.Fatalf("bystander is %s", aws.ToString(u.Username))
		}
		must(e.refresh(e.pub, "", keep.RefreshToken))(t)
		must(e.getUser(e.signIn(e.pub, "gso@example.com", password).AccessToken))(t)
		_, err := e.api.AdminUserGlobalSignOut(e.ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(e.pool), Username: aws.String("ghost@example.com")})
		wantErr(t, err, "UserNotFoundException")
	})
}

// TestListUsers covers ListUsers filters, pagination and projection.
func TestListUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.signUp(e.pub, "alice@example.com", attrT("given_name", "Alice"))
	albert := e.signUp(e.pub, "albert@example.com")
	bob := aws.ToString(must(e.api.SignUp(e.ctx, &cip.SignUpInput{
		ClientId: aws.String(e.pub), Username: aws.String("bob@example.org"), Password: aws.String(password),
	}))(t).UserSub)
	carol := e.signUp(e.pub, "carol@example.org")
	must(e.api.AdminDisableUser(e.ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(carol)}))(t)
	dave := aws.ToString(must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(e.pool), Username: aws.String("dave@example.com"), MessageAction: types.MessageActionTypeSuppress,
	}))(t).User.Username)
	all := []string{alice, albert, bob, carol, dave}

	list := func(t *testing.T, filter string, limit int32) ([]string, error) {
		t.Helper()
		in := &cip.ListUsersInput{UserPoolId: aws.String(e.pool)}
		if filter != "" {
			in.Filter = aws.String(filter)
		}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		var names []string
		pg := cip.NewListUsersPaginator(e.api, in)
		for pages := 0; pg.HasMorePages(); pages++ {
			page, err := pg.NextPage(e.ctx)
			if err != nil {
				return nil, err
			}
			if limit > 0 && int32(len(page.Users)) > limit {
				t.Fatalf("page of %d users, Limit %d", len(page.Users), limit)
			}
			if pages > 20 {
				t.Fatal("pagination does not end")
			}
			for _, u := range page.Users {
				names = append(names, aws.ToString(u.Username))
			}
		}
		slices.Sort(names)
		return names, nil
	}
	sorted := func(s ...string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	cases := []struct {
		filter string
		want   []string
	}{
		{``, all},
		{`email = "alice@example.com"`, []string{alice}},
		{`email = "nobody@example.com"`, nil},
		{`email ^= "al"`, []string{alice, albert}},
		{`email ^= ""`, all},
		{`given_name = "Alice"`, []string{alice}},
		{`cognito:user_status = "UNCONFIRMED"`, []string{bob}},
		{`cognito:user_status = "FORCE_CHANGE_PASSWORD"`, []string{dave}},
		{`status = "Disabled"`, []string{carol}},
		{`status = "Enabled"`, []string{alice, albert, bob, dave}},
		{`username = "` + bob + `"`, []string{bob}},
		{`sub = "` + alice + `"`, []string{alice}},
		{`email="albert@example.com"`, []string{albert}},
	}
	for _, tc := range cases {
		for _, limit := range []int32{0, 1, 2} {
			got, err := list(t, tc.filter, limit)
			if err != nil {
				t.Fatalf("filter %q limit %d: %v", tc.filter, limit, err)
			}
			if want := sorted(tc.want...); !slices.Equal(got, want) {
				t.Fatalf("filter %q limit %d: %v, want %v", tc.filter, limit, got, want)
			}
		}
	}
	for _, bad := range []string{`email == "x"`, `email = x`, `email = "x`, `nosuch = "x"`, `email ~ "x"`, `= "x"`, `email`, `email = "a" or email = "b"`, `custom:tier = "x"`} {
		_, err := list(t, bad, 0)
		wantErr(t, err, "InvalidParameterException")
	}
	for _, n := range []int32{-1, 61} {
		_, err := e.api.ListUsers(e.ctx, &cip.ListUsersInput{UserPoolId: aws.String(e.pool), Limit: aws.Int32(n)})
		wantErr(t, err, "InvalidParameterException")
	}
	_, err := e.api.ListUsers(e.ctx, &cip.ListUsersInput{UserPoolId: aws.String(e.pool), PaginationToken: aws.String("%%%")})
	wantErr(t, err, "InvalidParameterException")

	only := must(e.api.ListUsers(e.ctx, &cip.ListUsersInput{
		UserPoolId: aws.String(e.pool), Filter: aws.String(`email = "alice@example.com"`), AttributesToGet: []string{"email"},
	}))(t)
	if len(only.Users) != 1 || len(only.Users[0].Attributes) != 1 || aws.ToString(only.Users[0].Attributes[0].Name) != "email" {
		t.Fatalf("AttributesToGet [email]: %+v", only.Users)
	}
	u := only.Users[0]
	if u.UserStatus != types.UserStatusTypeConfirmed || !u.Enabled || u.UserCreateDate == nil {
		t.Fatalf("user %+v", u)
	}
}
