package integration_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// oldSystem is the user migration webhook of the tests: the users of the
// system a pool migrates from, with their passwords and statuses.
func oldSystem(users map[string]struct{ password, status string }) hookHandler {
	return func(w http.ResponseWriter, ev map[string]any) bool {
		name, _ := ev["userName"].(string)
		old, known := users[name]
		pw, withPassword := path(ev, "request", "password").(string)
		if !known || withPassword && pw != old.password {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errorMessage":"Bad password"}`))
			return true
		}
		r := response(ev)
		r["userAttributes"] = map[string]any{"email": name + "@old.example.com", "email_verified": "true", "name": "Old " + name}
		r["finalUserStatus"], r["messageAction"] = old.status, "SUPPRESS"
		return false
	}
}

func TestUserMigration(t *testing.T) {
	h := newHookEnv(t)
	pool, client := h.triggerPool(&types.LambdaConfigType{UserMigration: h.url("/migrate")})
	h.on("/migrate", oldSystem(map[string]struct{ password, status string }{
		"grace": {"Old-Password-1", "CONFIRMED"}, "henry": {"Old-Password-2", "CONFIRMED"}, "ivy": {"Old-Password-3", "RESET_REQUIRED"},
	}))

	// A wrong password, or a name the old system does not know either,
	// creates nothing.
	for _, c := range []struct{ user, pw string }{{"grace", "Wrong-Password-1"}, {"nobody", "Old-Password-1"}} {
		_, err := h.passwordAuth(client, c.user, c.pw)
		wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
	}
	if n := h.countUsers(pool); n != 0 {
		t.Fatalf("%d users after refused migrations", n)
	}

	// The right password migrates and signs in, in one request.
	tok := must(h.passwordAuth(client, "grace", "Old-Password-1"))(t)
	if c := claims(t, *tok.IdToken); c["email"] != "grace@old.example.com" || c["email_verified"] != true || c["cognito:username"] != "grace" {
		t.Fatalf("migrated user's id token %v", c)
	}
	ev := h.last("/migrate")
	if ev["triggerSource"] != "UserMigration_Authentication" || ev["userName"] != "grace" || path(ev, "request", "password") != "Old-Password-1" ||
		path(ev, "callerContext", "clientId") != client {
		t.Fatalf("migration event %v", ev)
	}
	u := must(h.adminGet(pool, "grace"))(t)
	if u.UserStatus != types.UserStatusTypeConfirmed {
		t.Fatalf("migrated status %s", u.UserStatus)
	}
	// From then on the user is Cognate's: SRP works, the webhook is not asked.
	calls := len(h.received("/migrate"))
	h.srpSignIn(pool, client, "grace", "Old-Password-1")
	if len(h.received("/migrate")) != calls {
		t.Fatal("the webhook was asked about a migrated user")
	}

	// RESET_REQUIRED: created, then told to reset.
	_, err := h.passwordAuth(client, "ivy", "Old-Password-3")
	wantErr(t, err, "PasswordResetRequiredException")
	if u := must(h.adminGet(pool, "ivy"))(t); u.UserStatus != types.UserStatusTypeResetRequired {
		t.Fatalf("ivy's status %s", u.UserStatus)
	}

	// Forgot password for an unknown user migrates them, then resets.
	out := must(h.api.ForgotPassword(h.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(client), Username: aws.String("henry")}))(t)
	if out.CodeDeliveryDetails == nil || h.last("/migrate")["triggerSource"] != "UserMigration_ForgotPassword" {
		t.Fatalf("ForgotPassword for a migrated user: %+v", out.CodeDeliveryDetails)
	}
	if _, ok := path(h.last("/migrate"), "request").(map[string]any)["password"]; ok {
		t.Fatal("a forgot-password migration event carries a password")
	}
	must(h.api.ConfirmForgotPassword(h.ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(client), Username: aws.String("henry"),
		ConfirmationCode: aws.String(h.code("henry@old.example.com", "forgot_password")), Password: aws.String(password)}))(t)
	h.srpSignIn(pool, client, "henry", password)
}

func TestUserMigrationGarbage(t *testing.T) {
	h := newHookEnv(t)
	pool, client := h.triggerPool(&types.LambdaConfigType{UserMigration: h.url("/migrate")})
	for _, tc := range []struct {
		name   string
		answer func(r map[string]any)
	}{
		{"unknown status", func(r map[string]any) { r["finalUserStatus"] = "ENABLED" }},
		{"attribute not a string", func(r map[string]any) { r["userAttributes"] = map[string]any{"email": 7} }},
		{"unknown attribute", func(r map[string]any) { r["userAttributes"] = map[string]any{"shoe_size": "44"} }},
		{"unknown message action", func(r map[string]any) { r["messageAction"] = "SHOUT" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.on("/migrate", func(_ http.ResponseWriter, ev map[string]any) bool { tc.answer(response(ev)); return false })
			_, err := h.passwordAuth(client, "judy", "Old-Password-1")
			wantErr(t, err, "InvalidLambdaResponseException")
			if n := h.countUsers(pool); n != 0 {
				t.Fatalf("%d users after a garbage migration answer", n)
			}
		})
	}
}
