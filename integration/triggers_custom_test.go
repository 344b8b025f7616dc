package integration_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/srp"
)

// colorQuiz is a custom auth challenge: "which color?", answered "blue",
// three wrong answers fail; with SRP first, the password comes first.
func (h *hookEnv) colorQuiz() {
	h.on("/define", func(_ http.ResponseWriter, ev map[string]any) bool {
		sess, _ := path(ev, "request", "session").([]any)
		r := response(ev)
		wrong := 0
		for _, s := range sess {
			if path(s, "challengeName") == "CUSTOM_CHALLENGE" && path(s, "challengeResult") == false {
				wrong++
			}
		}
		last := map[string]any{}
		if len(sess) > 0 {
			last, _ = sess[len(sess)-1].(map[string]any)
		}
		switch {
		case len(sess) == 1 && last["challengeName"] == "SRP_A":
			r["challengeName"] = "PASSWORD_VERIFIER"
		case last["challengeName"] == "CUSTOM_CHALLENGE" && last["challengeResult"] == true:
			r["issueTokens"] = true
		case wrong >= 3:
			r["failAuthentication"] = true
		default:
			r["challengeName"] = "CUSTOM_CHALLENGE"
		}
		return false
	})
	h.on("/create", func(_ http.ResponseWriter, ev map[string]any) bool {
		r := response(ev)
		r["publicChallengeParameters"] = map[string]any{"question": "which color?"}
		r["privateChallengeParameters"] = map[string]any{"answer": "blue"}
		r["challengeMetadata"] = "COLOR"
		return false
	})
	h.on("/verify", func(_ http.ResponseWriter, ev map[string]any) bool {
		response(ev)["answerCorrect"] = path(ev, "request", "challengeAnswer") == path(ev, "request", "privateChallengeParameters", "answer")
		return false
	})
}

func (h *hookEnv) customPool() (pool, client string) {
	h.t.Helper()
	pool, client = h.triggerPool(&types.LambdaConfigType{DefineAuthChallenge: h.url("/define"), CreateAuthChallenge: h.url("/create"), VerifyAuthChallengeResponse: h.url("/verify")})
	h.colorQuiz()
	must(h.api.AdminCreateUser(h.ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(pool), Username: aws.String("kim"), MessageAction: types.MessageActionTypeSuppress}))(h.t)
	must(h.api.AdminSetUserPassword(h.ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(pool), Username: aws.String("kim"), Password: aws.String(password), Permanent: true}))(h.t)
	return pool, client
}

func (h *hookEnv) answer(client string, session *string, answer string) (*cip.RespondToAuthChallengeOutput, error) {
	return h.respond(client, types.ChallengeNameTypeCustomChallenge, session, map[string]string{"USERNAME": "kim", "ANSWER": answer})
}

func TestCustomAuthWithoutSRP(t *testing.T) {
	h := newHookEnv(t)
	_, client := h.customPool()
	start := func() *cip.InitiateAuthOutput {
		out := must(h.api.InitiateAuth(h.ctx, &cip.InitiateAuthInput{ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeCustomAuth,
			AuthParameters: map[string]string{"USERNAME": "kim"}}))(t)
		if out.ChallengeName != types.ChallengeNameTypeCustomChallenge || out.ChallengeParameters["question"] != "which color?" ||
			out.ChallengeParameters["answer"] != "" || out.Session == nil {
			t.Fatalf("InitiateAuth CUSTOM_AUTH: %s %v", out.ChallengeName, out.ChallengeParameters)
		}
		return out
	}
	out := start()
	wrong := must(h.answer(client, out.Session, "red"))(t)
	if wrong.ChallengeName != types.ChallengeNameTypeCustomChallenge || wrong.Session == nil {
		t.Fatalf("a wrong answer: %s", wrong.ChallengeName)
	}
	// A Session is answered once.
	_, err := h.answer(client, out.Session, "blue")
	wantErr(t, err, "NotAuthorizedException")
	right := must(h.answer(client, wrong.Session, "blue"))(t)
	if right.AuthenticationResult == nil || claims(t, *right.AuthenticationResult.AccessToken)["username"] != "kim" {
		t.Fatalf("the right answer: %+v", right)
	}
	ev := h.last("/define")
	sess, _ := path(ev, "request", "session").([]any)
	if ev["triggerSource"] != "DefineAuthChallenge_Authentication" || len(sess) != 2 ||
		path(sess[0], "challengeResult") != false || path(sess[1], "challengeResult") != true || path(sess[1], "challengeMetadata") != "COLOR" {
		t.Fatalf("define event %v", ev)
	}
	if ev := h.last("/verify"); ev["triggerSource"] != "VerifyAuthChallengeResponse_Authentication" || path(ev, "request", "challengeAnswer") != "blue" {
		t.Fatalf("verify event %v", ev)
	}
	if ev := h.last("/create"); ev["triggerSource"] != "CreateAuthChallenge_Authentication" || path(ev, "request", "challengeName") != "CUSTOM_CHALLENGE" {
		t.Fatalf("create event %v", ev)
	}

	// Three wrong answers fail the sign-in.
	s := start().Session
	for i := 0; i < 2; i++ {
		s = must(h.answer(client, s, "green"))(t).Session
	}
	_, err = h.answer(client, s, "green")
	wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
}

func TestCustomAuthWithSRP(t *testing.T) {
	h := newHookEnv(t)
	pool, client := h.customPool()
	signIn := func(pw string) (*cip.RespondToAuthChallengeOutput, error) {
		c, err := srp.NewClient(pool)
		if err != nil {
			t.Fatal(err)
		}
		out := must(h.api.InitiateAuth(h.ctx, &cip.InitiateAuthInput{ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeCustomAuth,
			AuthParameters: map[string]string{"USERNAME": "kim", "SRP_A": c.AHex(), "CHALLENGE_NAME": "SRP_A"}}))(t)
		if out.ChallengeName != types.ChallengeNameTypePasswordVerifier || out.Session == nil {
			t.Fatalf("CUSTOM_AUTH with SRP_A: %s", out.ChallengeName)
		}
		return h.respond(client, types.ChallengeNameTypePasswordVerifier, out.Session, h.srpAnswer(c, out.ChallengeParameters, pw))
	}
	_, err := signIn(password2)
	wantErr(t, err, "NotAuthorizedException")
	out := must(signIn(password))(t)
	if out.ChallengeName != types.ChallengeNameTypeCustomChallenge {
		t.Fatalf("after the password: %s", out.ChallengeName)
	}
	sess, _ := path(h.last("/create"), "request", "session").([]any)
	if len(sess) != 2 || path(sess[0], "challengeName") != "SRP_A" || path(sess[1], "challengeName") != "PASSWORD_VERIFIER" || path(sess[1], "challengeResult") != true {
		t.Fatalf("session history after SRP: %v", sess)
	}
	if tok := must(h.answer(client, out.Session, "blue"))(t); tok.AuthenticationResult == nil {
		t.Fatalf("no tokens: %s", tok.ChallengeName)
	}
}

func TestCustomAuthNeedsTriggers(t *testing.T) {
	h := newHookEnv(t)
	_, client := h.triggerPool(nil)
	_, err := h.api.InitiateAuth(h.ctx, &cip.InitiateAuthInput{ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeCustomAuth,
		AuthParameters: map[string]string{"USERNAME": "kim"}})
	wantMessage(t, err, "InvalidParameterException", "Custom auth lambda trigger is not configured for the user pool.")
}
