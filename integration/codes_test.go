package integration_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestConfirmationCodes covers ResendConfirmationCode (the new code
// replaces the old one), the attempt limit on sign-up codes (five wrong
// codes lock the user's sign-up codes for a second, doubling; a new code
// brings no new guesses), and GetUserAttributeVerificationCode.
func TestConfirmationCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const email = "codes@example.com"
	must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String(email), Password: aws.String(password)}))(t)
	confirm := func(code string) error {
		_, err := e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(e.pub), Username: aws.String(email), ConfirmationCode: aws.String(code)})
		return err
	}
	first := e.code(email, "sign_up")
	wrong := "000000"
	if first == wrong {
		wrong = "000001"
	}
	for range 5 {
		wantErr(t, confirm(wrong), "CodeMismatchException")
	}
	lockedAt := time.Now()
	wantErr(t, confirm(first), "LimitExceededException")
	// A fresh code brings no fresh guesses.
	must(e.api.ResendConfirmationCode(e.ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(e.pub), Username: aws.String(email)}))(t)
	wantErr(t, confirm(e.code(email, "sign_up")), "LimitExceededException")
	if g := must(e.adminGet(e.pool, email))(t); g.UserStatus != types.UserStatusTypeUnconfirmed {
		t.Fatalf("status %s", g.UserStatus)
	}
	// The sixth failure, once the lock passed, locks for two seconds.
	time.Sleep(time.Until(lockedAt.Add(1100 * time.Millisecond)))
	wantErr(t, confirm(wrong), "CodeMismatchException")
	lockedAt = time.Now()
	wantErr(t, confirm(e.code(email, "sign_up")), "LimitExceededException")
	time.Sleep(time.Until(lockedAt.Add(2100 * time.Millisecond)))

	d := must(e.api.ResendConfirmationCode(e.ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(e.pub), Username: aws.String(email)}))(t).CodeDeliveryDetails
	if d == nil || aws.ToString(d.Destination) != "c***@e***" {
		t.Fatalf("CodeDeliveryDetails %+v", d)
	}
	second := e.code(email, "sign_up")
	must(e.api.ResendConfirmationCode(e.ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(e.pub), Username: aws.String(email)}))(t)
	third := e.code(email, "sign_up")
	if err := confirm(third); err != nil {
		t.Fatal(err)
	}
	if second != third {
		wantErr(t, confirm(second), "CodeMismatchException")
	}
	// Confirmed now: with existence errors prevented, a resend answers as
	// it would for anyone (a simulated delivery) and sends nothing.
	sent := len(e.outbox())
	again := must(e.api.ResendConfirmationCode(e.ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(e.pub), Username: aws.String(email)}))(t)
	if d := again.CodeDeliveryDetails; d == nil || aws.ToString(d.Destination) != "c***@e***" {
		t.Fatalf("resend to a confirmed user: %+v", d)
	}
	if len(e.outbox()) != sent {
		t.Fatal("a code went to a confirmed user")
	}

	tok := e.signIn(e.pub, email, password)
	gd := must(e.api.GetUserAttributeVerificationCode(e.ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: tok.AccessToken, AttributeName: aws.String("email")}))(t).CodeDeliveryDetails
	if gd == nil || aws.ToString(gd.AttributeName) != "email" {
		t.Fatalf("CodeDeliveryDetails %+v", gd)
	}
	must(e.api.VerifyUserAttribute(e.ctx, &cip.VerifyUserAttributeInput{
		AccessToken: tok.AccessToken, AttributeName: aws.String("email"), Code: aws.String(e.code(email, "verify_attribute")),
	}))(t)
	_, err := e.api.GetUserAttributeVerificationCode(e.ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: tok.AccessToken, AttributeName: aws.String("phone_number")})
	wantErr(t, err, "InvalidParameterException")
}
