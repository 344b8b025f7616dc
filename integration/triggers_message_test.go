package integration_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// customMessageOp is one operation that sends a code, run against a pool
// with a CustomMessage webhook.
type customMessageOp struct {
	name   string
	source string // the event's triggerSource
	kind   string // the outbox kind
	admin  bool   // AdminCreateUser: the text must carry {username}
	// prepare runs once, before any webhook answer is set.
	prepare func(h *hookEnv, pool, client, user, email string)
	run     func(h *hookEnv, pool, client, user, email string) error
	// confirm uses the delivered code.
	confirm func(h *hookEnv, pool, client, user, code string) error
}

// TestCustomMessage drives the CustomMessage trigger through SignUp,
// ForgotPassword and AdminCreateUser with the AWS SDK: the webhook's text
// reaches the outbox with the code substituted (and the code works), an
// answer without {####} is refused, and a failing webhook leaves neither a
// code nor a message.
func TestCustomMessage(t *testing.T) {
	h := newHookEnv(t)
	pool, client := h.triggerPool(&types.LambdaConfigType{CustomMessage: h.url("/customMessage")})
	for _, op := range []customMessageOp{
		{
			name: "SignUp", source: "CustomMessage_SignUp", kind: "sign_up",
			run: func(h *hookEnv, _, client, user, email string) error {
				_, err := h.api.SignUp(h.ctx, &cip.SignUpInput{ClientId: aws.String(client), Username: aws.String(user),
					Password: aws.String(password), UserAttributes: []types.AttributeType{attrT("email", email)},
					ClientMetadata: map[string]string{"campaign": "spring"}})
				return err
			},
			confirm: func(h *hookEnv, _, client, user, code string) error {
				_, err := h.api.ConfirmSignUp(h.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(client),
					Username: aws.String(user), ConfirmationCode: aws.String(code)})
				return err
			},
		},
		{
			name: "ForgotPassword", source: "CustomMessage_ForgotPassword", kind: "forgot_password",
			prepare: func(h *hookEnv, pool, _, user, email string) {
				must(h.api.AdminCreateUser(h.ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(pool), Username: aws.String(user),
					MessageAction:  types.MessageActionTypeSuppress,
					UserAttributes: []types.AttributeType{attrT("email", email), attrT("email_verified", "true")}}))(h.t)
				must(h.api.AdminSetUserPassword(h.ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(pool),
					Username: aws.String(user), Password: aws.String(password), Permanent: true}))(h.t)
			},
			run: func(h *hookEnv, _, client, user, _ string) error {
				_, err := h.api.ForgotPassword(h.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(client), Username: aws.String(user),
					ClientMetadata: map[string]string{"campaign": "spring"}})
				return err
			},
			confirm: func(h *hookEnv, _, client, user, code string) error {
				_, err := h.api.ConfirmForgotPassword(h.ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(client),
					Username: aws.String(user), ConfirmationCode: aws.String(code), Password: aws.String(password + "-2")})
				return err
			},
		},
		{
			name: "AdminCreateUser", source: "CustomMessage_AdminCreateUser", kind: "admin_create_user", admin: true,
			run: func(h *hookEnv, pool, _, user, email string) error {
				_, err := h.api.AdminCreateUser(h.ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(pool), Username: aws.String(user),
					UserAttributes: []types.AttributeType{attrT("email", email)}, ClientMetadata: map[string]string{"campaign": "spring"}})
				return err
			},
			confirm: func(h *hookEnv, _, client, user, temp string) error {
				out, err := h.api.InitiateAuth(h.ctx, &cip.InitiateAuthInput{
					ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
					AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": temp},
				})
				if err == nil && out.ChallengeName != types.ChallengeNameTypeNewPasswordRequired {
					err = fmt.Errorf("challenge %q, want NEW_PASSWORD_REQUIRED", out.ChallengeName)
				}
				return err
			},
		},
	} {
		t.Run(op.name, func(t *testing.T) {
			user := strings.ToLower(op.name)
			email := user + "@example.com"
			if op.prepare != nil {
				op.prepare(h, pool, client, user, email)
			}
			failures := []struct {
				name    string
				answer  hookHandler
				code    string
				message string
			}{
				{"no code parameter", func(_ http.ResponseWriter, ev map[string]any) bool {
					response(ev)["emailMessage"] = "Hello {username}, welcome."
					return false
				}, "InvalidLambdaResponseException", "Invalid lambda response: emailMessage must be at most its length and contain the code parameter {####} (and {username} for AdminCreateUser)."},
				{"subject too long", func(_ http.ResponseWriter, ev map[string]any) bool {
					response(ev)["emailMessage"] = "{username} {####}"
					response(ev)["emailSubject"] = strings.Repeat("é", 141)
					return false
				}, "InvalidLambdaResponseException", "Invalid lambda response: emailSubject must be at most its length and contain the code parameter {####} (and {username} for AdminCreateUser)."},
				{"500", func(w http.ResponseWriter, _ map[string]any) bool {
					http.Error(w, "boom", http.StatusInternalServerError)
					return true
				}, "UnexpectedLambdaException", "CustomMessage invocation failed due to error webhook failed."},
				{"refusal", func(w http.ResponseWriter, _ map[string]any) bool {
					w.WriteHeader(http.StatusBadRequest)
					w.Write([]byte(`{"errorType":"Error","errorMessage":"No messages today"}`))
					return true
				}, "UserLambdaValidationException", "CustomMessage failed with error No messages today."},
			}
			if op.admin {
				failures = append(failures, struct {
					name    string
					answer  hookHandler
					code    string
					message string
				}{"no username parameter", func(_ http.ResponseWriter, ev map[string]any) bool {
					response(ev)["emailMessage"] = "Your password is {####}."
					return false
				}, "InvalidLambdaResponseException", "Invalid lambda response: emailMessage must be at most its length and contain the code parameter {####} (and {username} for AdminCreateUser)."})
			}
			users := h.countUsers(pool)
			for _, f := range failures {
				h.on("/customMessage", f.answer)
				wantMessage(t, op.run(h, pool, client, user, email), f.code, f.message)
				if n := len(messagesTo(h.outbox(), email)); n != 0 {
					t.Fatalf("%s: %d messages queued after a failed CustomMessage", f.name, n)
				}
				if n := h.countUsers(pool); n != users {
					t.Fatalf("%s: %d users after a failed CustomMessage, want %d", f.name, n, users)
				}
			}

			const subject = "Your Acme code ✓"
			body := "Hi there,\nyour code is {####}.\nSee you soon."
			if op.admin {
				body = "Welcome {username}! Your temporary password is {####}"
			}
			h.on("/customMessage", func(_ http.ResponseWriter, ev map[string]any) bool {
				response(ev)["emailMessage"] = body
				response(ev)["emailSubject"] = subject
				return false
			})
			if err := op.run(h, pool, client, user, email); err != nil {
				t.Fatal(err)
			}
			ev := h.last("/customMessage")
			wantUsername := any(nil)
			if op.admin {
				wantUsername = "{username}"
			}
			for _, c := range []struct {
				name string
				got  any
				want any
			}{
				{"triggerSource", ev["triggerSource"], op.source},
				{"userName", ev["userName"], user},
				{"codeParameter", path(ev, "request", "codeParameter"), "{####}"},
				{"usernameParameter", path(ev, "request", "usernameParameter"), wantUsername},
				{"linkParameter", path(ev, "request", "linkParameter"), "{##Click Here##}"},
				{"email attribute", path(ev, "request", "userAttributes", "email"), email},
				{"clientMetadata", path(ev, "request", "clientMetadata", "campaign"), "spring"},
				{"default emailMessage", path(ev, "response", "emailMessage"), nil},
			} {
				if c.got != c.want {
					t.Errorf("event %s = %v, want %v", c.name, c.got, c.want)
				}
			}
			msgs := messagesTo(h.outbox(), email)
			if len(msgs) != 1 {
				t.Fatalf("%d messages to %s, want 1", len(msgs), email)
			}
			m := msgs[0]
			want := strings.NewReplacer("{####}", m.Code, "{username}", user).Replace(body)
			if m.Kind != op.kind || m.Code == "" || m.Subject != subject || m.Message != want {
				t.Fatalf("outbox has %+v, want kind %s, subject %q, message %q", m, op.kind, subject, want)
			}
			if err := op.confirm(h, pool, client, user, m.Code); err != nil {
				t.Fatalf("the delivered code does not work: %v", err)
			}
		})
	}
}

func messagesTo(box []outboxEntry, dest string) []outboxEntry {
	var out []outboxEntry
	for _, m := range box {
		if strings.EqualFold(m.Destination, dest) {
			out = append(out, m)
		}
	}
	return out
}
