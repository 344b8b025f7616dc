package integration_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
)

// TestConcurrency races the operations that must pick exactly one
// winner, through the SDK: no 5xx, and the outcomes add up.
func TestConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 8
	var winner int
	race := func(f func(i int) error) (ok int, codes map[string]int) {
		t.Helper()
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = f(i)
			})
		}
		close(start)
		wg.Wait()
		codes = map[string]int{}
		for i, err := range errs {
			if err == nil {
				ok++
				winner = i
				continue
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("not an API error: %v", err)
			}
			wantErr(t, err, ae.ErrorCode()) // a 4xx, never a 5xx
			codes[ae.ErrorCode()]++
		}
		return ok, codes
	}

	ok, codes := race(func(int) error {
		_, err := e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String("race@example.com"), Password: aws.String(password)})
		return err
	})
	if ok != 1 || codes["UsernameExistsException"] != n-1 {
		t.Fatalf("concurrent SignUp: %d ok, %v", ok, codes)
	}
	if c := e.countUsers(e.pool); c != 1 {
		t.Fatalf("%d users", c)
	}
	if sent := e.outbox(); len(sent) != 1 {
		t.Fatalf("%d codes sent for one sign-up", len(sent))
	}
	must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{
		ClientId: aws.String(e.pub), Username: aws.String("race@example.com"), ConfirmationCode: aws.String(e.code("race@example.com", "sign_up")),
	}))(t)

	// Concurrent refreshes of one token inside the grace period all work
	// (several tabs refreshing at once).
	tok := e.signIn(e.pub, "race@example.com", password)
	if ok, codes := race(func(int) error { _, err := e.refresh(e.pub, "", tok.RefreshToken); return err }); ok != n {
		t.Fatalf("concurrent refresh: %d ok, %v", ok, codes)
	}

	// One SRP answer, sent n times at once: one sign-in.
	c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, "race@example.com", nil))
	ans := e.srpAnswer(c, cp, password)
	if ok, codes := race(func(int) error {
		_, err := e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, ans)
		return err
	}); ok != 1 || codes["NotAuthorizedException"] != n-1 {
		t.Fatalf("concurrent replay: %d ok, %v", ok, codes)
	}

	// One reset code, redeemed n times at once (different passwords): one
	// reset.
	must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String("race@example.com")}))(t)
	code := e.code("race@example.com", "forgot_password")
	ok, codes = race(func(i int) error {
		_, err := e.api.ConfirmForgotPassword(e.ctx, &cip.ConfirmForgotPasswordInput{
			ClientId: aws.String(e.pub), Username: aws.String("race@example.com"), ConfirmationCode: aws.String(code),
			Password: aws.String(fmt.Sprintf("Racer-Pass-%d", i)),
		})
		return err
	})
	if ok != 1 || codes["ExpiredCodeException"] != n-1 {
		t.Fatalf("concurrent ConfirmForgotPassword: %d ok, %v", ok, codes)
	}
	// The winner's password is the one set, and no loser's is.
	e.signIn(e.pub, "race@example.com", fmt.Sprintf("Racer-Pass-%d", winner))
	_, err := e.passwordAuth(e.pub, "race@example.com", fmt.Sprintf("Racer-Pass-%d", (winner+1)%n))
	wantErr(t, err, "NotAuthorizedException")
}
