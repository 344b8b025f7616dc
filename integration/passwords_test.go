package integration_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestChangePassword covers ChangePassword.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "chg@example.com")
	tok := e.signIn(e.pub, "chg@example.com", password)
	change := func(prev, next string) error {
		_, err := e.api.ChangePassword(e.ctx, &cip.ChangePasswordInput{
			AccessToken: tok.AccessToken, PreviousPassword: aws.String(prev), ProposedPassword: aws.String(next),
		})
		return err
	}
	wantErr(t, change("Wrong-Pass-1", password2), "NotAuthorizedException")
	wantErr(t, change(password, "weak"), "InvalidPasswordException")
	e.signIn(e.pub, "chg@example.com", password) // unchanged so far
	if err := change(password, password2); err != nil {
		t.Fatal(err)
	}
	_, err := e.passwordAuth(e.pub, "chg@example.com", password)
	wantErr(t, err, "NotAuthorizedException")
	e.signIn(e.pub, "chg@example.com", password2)
	e.srpSignIn(e.pool, e.pub, "chg@example.com", password2)
}

// TestForgotPassword covers ForgotPassword and ConfirmForgotPassword:
// codes are single-use, a wrong code counts, five wrong ones kill the
// code, and a reset ends existing sign-ins.
func TestForgotPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "fp@example.com")
	tok := e.signIn(e.pub, "fp@example.com", password)
	forgot := func() {
		t.Helper()
		d := must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String("fp@example.com")}))(t).CodeDeliveryDetails
		if d == nil || aws.ToString(d.Destination) != "f***@e***" || d.DeliveryMedium != types.DeliveryMediumTypeEmail {
			t.Fatalf("CodeDeliveryDetails %+v", d)
		}
	}
	confirm := func(code, pw string) error {
		_, err := e.api.ConfirmForgotPassword(e.ctx, &cip.ConfirmForgotPasswordInput{
			ClientId: aws.String(e.pub), Username: aws.String("fp@example.com"), ConfirmationCode: aws.String(code), Password: aws.String(pw),
		})
		return err
	}
	wrongFor := func(code string) string {
		if code == "999999" {
			return "999998"
		}
		return "999999"
	}

	forgot()
	code := e.code("fp@example.com", "forgot_password")
	wantErr(t, confirm(wrongFor(code), password2), "CodeMismatchException")
	wantErr(t, confirm(code, "weak"), "InvalidPasswordException")
	if err := confirm(code, password2); err != nil {
		t.Fatalf("right code after one wrong one: %v", err)
	}
	wantErr(t, confirm(code, "Third-Pass-3"), "ExpiredCodeException") // spent
	e.signIn(e.pub, "fp@example.com", password2)
	_, err := e.passwordAuth(e.pub, "fp@example.com", password)
	wantErr(t, err, "NotAuthorizedException")
	// The reset ended the sign-in made with the old password.
	_, err = e.getUser(tok.AccessToken)
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.refresh(e.pub, "", tok.RefreshToken)
	wantErr(t, err, "NotAuthorizedException")

	forgot()
	code = e.code("fp@example.com", "forgot_password")
	for range 5 {
		wantErr(t, confirm(wrongFor(code), password), "CodeMismatchException")
	}
	lockedAt := time.Now()
	// Locked: even the right code is refused, and the password unchanged.
	wantErr(t, confirm(code, password), "LimitExceededException")
	e.signIn(e.pub, "fp@example.com", password2)
	time.Sleep(time.Until(lockedAt.Add(1100 * time.Millisecond)))

	// A new code replaces the old one.
	forgot()
	first := e.code("fp@example.com", "forgot_password")
	forgot()
	second := e.code("fp@example.com", "forgot_password")
	if err := confirm(second, password); err != nil {
		t.Fatal(err)
	}
	if first != second {
		wantErr(t, confirm(first, password), "CodeMismatchException")
	}
	e.signIn(e.pub, "fp@example.com", password)
}

// TestOversizedPasswordIsNotEvaluated: a password longer than Cognito's
// 256 characters is refused before any hashing — at sign-up with
// InvalidParameterException, at sign-in and ChangePassword with
// NotAuthorizedException that does not count toward the lock.
func TestOversizedPasswordIsNotEvaluated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("Aa1!", 65) // 260 characters
	_, err := e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String("long@example.com"), Password: aws.String(long)})
	wantErr(t, err, "InvalidParameterException")
	e.signUp(e.pub, "long@example.com")
	tok := e.signIn(e.pub, "long@example.com", password)
	huge := strings.Repeat("é", 600) // 1,200 bytes: more than 256 characters can take
	for range 8 {
		_, err := e.passwordAuth(e.pub, "long@example.com", huge)
		wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
		_, err = e.api.ChangePassword(e.ctx, &cip.ChangePasswordInput{
			AccessToken: tok.AccessToken, PreviousPassword: aws.String(huge), ProposedPassword: aws.String(password2),
		})
		wantErr(t, err, "NotAuthorizedException")
	}
	// Sixteen refusals, none counted: the user is not locked.
	e.signIn(e.pub, "long@example.com", password)
}
