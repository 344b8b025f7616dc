package integration_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestUpdateEmail: a new email waits for its code, then replaces the old
// one for sign-in.
func TestUpdateEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub := e.signUp(e.pub, "old@example.com")
	tok := e.signIn(e.pub, "old@example.com", password)
	out := must(e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken:    tok.AccessToken,
		UserAttributes: []types.AttributeType{attrT("email", "new@example.org"), attrT("given_name", "Neo")},
	}))(t)
	if len(out.CodeDeliveryDetailsList) != 1 || aws.ToString(out.CodeDeliveryDetailsList[0].AttributeName) != "email" ||
		aws.ToString(out.CodeDeliveryDetailsList[0].Destination) != "n***@e***" {
		t.Fatalf("CodeDeliveryDetailsList %+v", out.CodeDeliveryDetailsList)
	}
	code := e.code("new@example.org", "verify_attribute")

	// Until verified, the old email stays in force.
	u := must(e.getUser(tok.AccessToken))(t)
	if v, _ := attr(u.UserAttributes, "email"); v != "old@example.com" {
		t.Fatalf("email %q before verification", v)
	}
	if v, _ := attr(u.UserAttributes, "given_name"); v != "Neo" {
		t.Fatalf("given_name %q: unverified attributes apply at once", v)
	}
	e.signIn(e.pub, "old@example.com", password)
	_, err := e.passwordAuth(e.pub, "new@example.org", password)
	wantErr(t, err, "NotAuthorizedException")

	verify := func(c string) error {
		_, err := e.api.VerifyUserAttribute(e.ctx, &cip.VerifyUserAttributeInput{AccessToken: tok.AccessToken, AttributeName: aws.String("email"), Code: aws.String(c)})
		return err
	}
	wrong := "123456"
	if code == wrong {
		wrong = "654321"
	}
	wantErr(t, verify(wrong), "CodeMismatchException")
	if err := verify(code); err != nil {
		t.Fatal(err)
	}
	u = must(e.getUser(tok.AccessToken))(t)
	if v, _ := attr(u.UserAttributes, "email"); v != "new@example.org" {
		t.Fatalf("email %q after verification", v)
	}
	if v, _ := attr(u.UserAttributes, "email_verified"); v != "true" {
		t.Fatalf("email_verified %q", v)
	}
	// Restating the same email (as forms do) keeps it verified.
	must(e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken: tok.AccessToken, UserAttributes: []types.AttributeType{attrT("email", "new@example.org"), attrT("family_name", "One")},
	}))(t)
	if v, _ := attr(must(e.getUser(tok.AccessToken))(t).UserAttributes, "email_verified"); v != "true" {
		t.Fatalf("email_verified %q after restating the same email", v)
	}
	_, err = e.passwordAuth(e.pub, "old@example.com", password)
	wantErr(t, err, "NotAuthorizedException")
	next := e.signIn(e.pub, "new@example.org", password)
	if c := claims(t, aws.ToString(next.IdToken)); c["email"] != "new@example.org" || c["cognito:username"] != sub {
		t.Fatalf("id token email %v username %v", c["email"], c["cognito:username"])
	}
	g := must(e.adminGet(e.pool, "new@example.org"))(t)
	if aws.ToString(g.Username) != sub {
		t.Fatalf("AdminGetUser by the new email: %s", aws.ToString(g.Username))
	}
	_, err = e.adminGet(e.pool, "old@example.com")
	wantErr(t, err, "UserNotFoundException")
	wantErr(t, verify(code), "ExpiredCodeException") // spent

	// An address another user holds cannot be taken.
	e.signUp(e.pub, "taken@example.com")
	_, err = e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken: tok.AccessToken, UserAttributes: []types.AttributeType{attrT("email", "taken@example.com")},
	})
	wantErr(t, err, "AliasExistsException")
	_, err = e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken: tok.AccessToken, UserAttributes: []types.AttributeType{attrT("email_verified", "true")},
	})
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken: tok.AccessToken, UserAttributes: []types.AttributeType{attrT("custom:nope", "x")},
	})
	wantErr(t, err, "InvalidParameterException")
}

// TestDeleteUserAttributes covers DeleteUserAttributes.
func TestDeleteUserAttributes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "del@example.com", attrT("given_name", "Del"), attrT("family_name", "Eted"))
	tok := e.signIn(e.pub, "del@example.com", password)
	del := func(names ...string) error {
		_, err := e.api.DeleteUserAttributes(e.ctx, &cip.DeleteUserAttributesInput{AccessToken: tok.AccessToken, UserAttributeNames: names})
		return err
	}
	wantErr(t, del("email"), "InvalidParameterException")
	wantErr(t, del("sub"), "InvalidParameterException")
	wantErr(t, del("given_name", "no_such_attribute"), "InvalidParameterException")
	if v, _ := attr(must(e.getUser(tok.AccessToken))(t).UserAttributes, "given_name"); v != "Del" {
		t.Fatal("a refused delete removed given_name")
	}
	if err := del("given_name"); err != nil {
		t.Fatal(err)
	}
	u := must(e.getUser(tok.AccessToken))(t)
	if _, ok := attr(u.UserAttributes, "given_name"); ok {
		t.Fatal("given_name still there")
	}
	if v, _ := attr(u.UserAttributes, "family_name"); v != "Eted" {
		t.Fatal("family_name gone too")
	}
	if _, ok := claims(t, aws.ToString(e.signIn(e.pub, "del@example.com", password).IdToken))["given_name"]; ok {
		t.Fatal("id token still carries given_name")
	}
}

// TestDeleteUser: a user deleting itself loses everything.
func TestDeleteUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub := e.signUp(e.pub, "bye@example.com")
	tok := e.signIn(e.pub, "bye@example.com", password)
	before := e.countUsers(e.pool)
	must(e.api.DeleteUser(e.ctx, &cip.DeleteUserInput{AccessToken: tok.AccessToken}))(t)
	if n := e.countUsers(e.pool); n != before-1 {
		t.Fatalf("%d users, want %d", n, before-1)
	}
	_, err := e.adminGet(e.pool, sub)
	wantErr(t, err, "UserNotFoundException")
	_, err = e.getUser(tok.AccessToken)
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.refresh(e.pub, "", tok.RefreshToken)
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.passwordAuth(e.pub, "bye@example.com", password)
	wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
	_, err = e.api.DeleteUser(e.ctx, &cip.DeleteUserInput{AccessToken: tok.AccessToken})
	wantErr(t, err, "NotAuthorizedException")
	// The address is free again.
	e.signUp(e.pub, "bye@example.com")
}

// TestUpdateEmailWithoutVerification: in a pool that does not verify
// emails, a changed email applies at once but is no longer verified, so
// neither the id token nor a password reset vouches for it; and a client
// can never mark an address verified itself.
func TestUpdateEmailWithoutVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool := aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("noverify"), UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
	}))(t).UserPool.Id)
	client, _ := e.newClient(pool, rotation(false, 0))
	must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(pool), Username: aws.String("nv@example.com"), MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{attrT("email", "nv@example.com"), attrT("email_verified", "true")},
	}))(t)
	must(e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(pool), Username: aws.String("nv@example.com"), Password: aws.String(password), Permanent: true,
	}))(t)
	tok := e.signIn(client, "nv@example.com", password)
	if claims(t, aws.ToString(tok.IdToken))["email_verified"] != true {
		t.Fatal("admin-verified email not verified in the id token")
	}
	out := must(e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken: tok.AccessToken, UserAttributes: []types.AttributeType{attrT("email", "claimed@example.org")},
	}))(t)
	if len(out.CodeDeliveryDetailsList) != 0 {
		t.Fatalf("a code was sent in a pool that does not verify: %+v", out.CodeDeliveryDetailsList)
	}
	u := must(e.getUser(tok.AccessToken))(t)
	if v, _ := attr(u.UserAttributes, "email"); v != "claimed@example.org" {
		t.Fatalf("email %q", v)
	}
	if v, _ := attr(u.UserAttributes, "email_verified"); v != "false" {
		t.Fatalf("email_verified %q for an address nobody proved", v)
	}
	next := must(e.refresh(client, "", tok.RefreshToken))(t)
	if c := claims(t, aws.ToString(next.IdToken)); c["email"] != "claimed@example.org" || c["email_verified"] != false {
		t.Fatalf("id token email %v email_verified %v", c["email"], c["email_verified"])
	}
	// No code goes to an address nobody proved; the caller is told one
	// went out, as for any name (existence errors are prevented).
	sent := len(e.outbox())
	must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(client), Username: aws.String("claimed@example.org")}))(t)
	if len(e.outbox()) != sent {
		t.Fatal("a reset code went to an unverified address")
	}

	// Nor can a client assert verification itself, at sign-up or while
	// answering NEW_PASSWORD_REQUIRED.
	var err error
	for _, name := range []string{"email_verified", "phone_number_verified"} {
		_, err = e.api.SignUp(e.ctx, &cip.SignUpInput{
			ClientId: aws.String(client), Username: aws.String("self@example.com"), Password: aws.String(password),
			UserAttributes: []types.AttributeType{attrT(name, "true")},
		})
		wantMessage(t, err, "NotAuthorizedException", "A client attempted to write unauthorized attribute")
	}
	if _, err := e.adminGet(pool, "self@example.com"); err == nil {
		t.Fatal("a refused SignUp created the user")
	}
	must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(pool), Username: aws.String("inv@example.com"), TemporaryPassword: aws.String("Temp-Pass-123"),
		MessageAction:  types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{attrT("email", "inv@example.com"), attrT("email_verified", "true")},
	}))(t)
	ia := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "inv@example.com", "PASSWORD": "Temp-Pass-123"},
	}))(t)
	id := ia.ChallengeParameters["USER_ID_FOR_SRP"]
	_, err = e.respond(client, types.ChallengeNameTypeNewPasswordRequired, ia.Session, map[string]string{
		"USERNAME": id, "NEW_PASSWORD": password, "userAttributes.email": "other@example.org", "userAttributes.email_verified": "true",
	})
	wantErr(t, err, "NotAuthorizedException")
	done := must(e.respond(client, types.ChallengeNameTypeNewPasswordRequired, ia.Session, map[string]string{
		"USERNAME": id, "NEW_PASSWORD": password, "userAttributes.email": "other@example.org",
	}))(t)
	if c := claims(t, aws.ToString(done.AuthenticationResult.IdToken)); c["email"] != "other@example.org" || c["email_verified"] != false {
		t.Fatalf("id token email %v email_verified %v", c["email"], c["email_verified"])
	}
}
