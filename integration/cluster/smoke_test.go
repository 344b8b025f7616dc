package cluster_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/srp"
)

// signOutBound is how long a global sign-out made on one node may take
// to be seen by another: the family-liveness cache's TTL (2 s, see
// userpool/cache.go and docs/SECURITY.md "Known limits"), with room for
// a loaded machine.
const signOutBound = 5 * time.Second

// TestCrossNodeSignIn spreads one user's life over the three nodes: the
// user is created on node 1, signs in with SRP starting on node 2 and
// answering the challenge on node 3, is read with the access token on
// node 1, refreshes on node 3 and reads on node 2; a global sign-out on
// node 2 must then be honoured by node 3 within signOutBound.
func TestCrossNodeSignIn(t *testing.T) {
	db := servicetest.Postgres(t)
	broker := servicetest.StartNATSServer(t)
	c := newCluster(t, db, broker.URL())
	n1, n2, n3 := c.nodes[0], c.nodes[1], c.nodes[2]
	ctx := t.Context()
	const user = "smoke"

	if _, err := n1.api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(poolID), Username: aws.String(user), MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String(emailOf(user))}},
	}); err != nil {
		t.Fatalf("node1 AdminCreateUser: %v", err)
	}
	if _, err := n1.api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(poolID), Username: aws.String(user), Password: aws.String(password), Permanent: true,
	}); err != nil {
		t.Fatalf("node1 AdminSetUserPassword: %v", err)
	}

	sc, err := srp.NewClient(poolID)
	if err != nil {
		t.Fatal(err)
	}
	start, err := n2.api.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserSrpAuth,
		AuthParameters: map[string]string{"USERNAME": user, "SRP_A": sc.AHex()},
	})
	if err != nil {
		t.Fatalf("node2 InitiateAuth USER_SRP_AUTH: %v", err)
	}
	if start.ChallengeName != types.ChallengeNameTypePasswordVerifier {
		t.Fatalf("node2 InitiateAuth: challenge %q, want PASSWORD_VERIFIER", start.ChallengeName)
	}
	cp := start.ChallengeParameters
	sig, ts, err := sc.Respond(cp["USER_ID_FOR_SRP"], password, cp["SALT"], cp["SRP_B"], cp["SECRET_BLOCK"], time.Now())
	if err != nil {
		t.Fatalf("SRP client: %v", err)
	}
	answer, err := n3.api.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId: aws.String(clientID), ChallengeName: types.ChallengeNameTypePasswordVerifier, Session: start.Session,
		ChallengeResponses: map[string]string{
			"USERNAME":                    cp["USER_ID_FOR_SRP"],
			"PASSWORD_CLAIM_SECRET_BLOCK": cp["SECRET_BLOCK"],
			"TIMESTAMP":                   ts,
			"PASSWORD_CLAIM_SIGNATURE":    sig,
		},
	})
	if err != nil {
		t.Fatalf("node3 RespondToAuthChallenge PASSWORD_VERIFIER (challenge from node2): %v", err)
	}
	tokens := answer.AuthenticationResult
	if tokens == nil {
		t.Fatalf("node3 RespondToAuthChallenge: challenge %q instead of tokens", answer.ChallengeName)
	}

	got, err := n1.api.GetUser(ctx, &cip.GetUserInput{AccessToken: tokens.AccessToken})
	if err != nil {
		t.Fatalf("node1 GetUser with node3's access token: %v", err)
	}
	if aws.ToString(got.Username) != user || attr(got.UserAttributes, "email") != emailOf(user) {
		t.Fatalf("node1 GetUser: username %q, email %q", aws.ToString(got.Username), attr(got.UserAttributes, "email"))
	}

	refreshed, err := n3.api.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(tokens.RefreshToken)},
	})
	if err != nil || refreshed.AuthenticationResult == nil {
		t.Fatalf("node3 REFRESH_TOKEN_AUTH: %v", err)
	}
	access := refreshed.AuthenticationResult.AccessToken
	if _, err := n2.api.GetUser(ctx, &cip.GetUserInput{AccessToken: access}); err != nil {
		t.Fatalf("node2 GetUser with the refreshed access token: %v", err)
	}
	// Node 3 verifies (and caches) the token before the sign-out.
	if _, err := n3.api.GetUser(ctx, &cip.GetUserInput{AccessToken: access}); err != nil {
		t.Fatalf("node3 GetUser: %v", err)
	}

	if _, err := n2.api.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{
		UserPoolId: aws.String(poolID), Username: aws.String(user),
	}); err != nil {
		t.Fatalf("node2 AdminUserGlobalSignOut: %v", err)
	}
	signedOut := time.Now()
	for {
		_, err := n3.api.GetUser(ctx, &cip.GetUserInput{AccessToken: access})
		if apiCode(err) == "NotAuthorizedException" {
			t.Logf("node3 refused the access token %s after node2's global sign-out (bound %s)", time.Since(signedOut).Round(time.Millisecond), signOutBound)
			break
		}
		if err != nil {
			t.Fatalf("node3 GetUser after sign-out: %v, want NotAuthorizedException", err)
		}
		if time.Since(signedOut) > signOutBound {
			t.Fatalf("node3 still accepts the access token %s after node2's global sign-out", signOutBound)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := n1.api.GetUser(ctx, &cip.GetUserInput{AccessToken: access}); apiCode(err) != "NotAuthorizedException" {
		t.Fatalf("node1 GetUser after sign-out: %v, want NotAuthorizedException", err)
	}
}
