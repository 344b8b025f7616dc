package userpool

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/cognate-auth/cognate/storage"
)

// CustomMessage trigger sources and the placeholders its texts carry.
const (
	triggerCustomMessage     = "CustomMessage"
	sourceMessageSignUp      = "CustomMessage_SignUp"
	sourceMessageResend      = "CustomMessage_ResendCode"
	sourceMessageForgot      = "CustomMessage_ForgotPassword"
	sourceMessageUpdateAttr  = "CustomMessage_UpdateUserAttribute"
	sourceMessageVerifyAttr  = "CustomMessage_VerifyUserAttribute"
	sourceMessageAdminCreate = "CustomMessage_AdminCreateUser"
	sourceMessageAuth        = "CustomMessage_Authentication"

	codeParameter     = "{####}"
	usernameParameter = "{username}"
	linkParameter     = "{##Click Here##}"
)

// Cognito's bounds on a CustomMessage answer, in UTF-8 characters.
const (
	maxCustomEmail   = 20000
	maxCustomSubject = 140
	maxCustomSMS     = 140
)

// customText is what a CustomMessage webhook answered for one message:
// templates holding the placeholders, the code substituted only at
// delivery. The zero value means the default text.
type customText struct {
	subject, body string
}

// customMessageResponse is the CustomMessage trigger's response; null
// members keep the default text.
type customMessageResponse struct {
	SMSMessage   *string `json:"smsMessage"`
	EmailMessage *string `json:"emailMessage"`
	EmailSubject *string `json:"emailSubject"`
}

// customMessage runs the CustomMessage trigger, if the pool has one, for
// a message about to go to u's dest (a phone number when it starts with
// "+"), and checks its answer. It writes nothing: callers run it before
// the transaction that stores the code, so a failure leaves no trace.
func (s *Service) customMessage(ctx context.Context, p storage.Pool, clientID, source string, u storage.User, dest string) (customText, error) {
	url := lambdaConfig(p).CustomMessage
	if url == "" || dest == "" {
		return customText{}, nil
	}
	admin := source == sourceMessageAdminCreate
	var userParam *string
	if admin {
		v := usernameParameter
		userParam = &v
	}
	var resp customMessageResponse
	err := s.call(ctx, hook{
		trigger: triggerCustomMessage, url: url, source: source, pool: p, clientID: clientID, userName: u.Username,
		request: map[string]any{
			"userAttributes": hookAttributes(u), "codeParameter": codeParameter, "usernameParameter": userParam,
			"linkParameter": linkParameter, "clientMetadata": clientMetadata(ctx),
		},
		response: &resp,
	})
	if err != nil {
		return customText{}, err
	}
	var out customText
	if strings.HasPrefix(dest, "+") {
		if resp.SMSMessage != nil {
			out.body = *resp.SMSMessage
		}
		if !validCustomText(out.body, maxCustomSMS, admin) {
			return customText{}, s.badCustomMessage(ctx, p, "smsMessage")
		}
		return out, nil
	}
	if resp.EmailMessage != nil {
		out.body = *resp.EmailMessage
	}
	if resp.EmailSubject != nil {
		out.subject = *resp.EmailSubject
	}
	if !validCustomText(out.body, maxCustomEmail, admin) {
		return customText{}, s.badCustomMessage(ctx, p, "emailMessage")
	}
	if utf8.RuneCountInString(out.subject) > maxCustomSubject || !utf8.ValidString(out.subject) || strings.ContainsAny(out.subject, "\r\n") {
		return customText{}, s.badCustomMessage(ctx, p, "emailSubject")
	}
	return out, nil
}

// validCustomText reports whether a webhook's message may be sent: empty
// (the default text), or valid UTF-8 within max characters that carries
// the code, and the username for an invitation.
func validCustomText(body string, max int, admin bool) bool {
	if body == "" {
		return true
	}
	if !utf8.ValidString(body) || utf8.RuneCountInString(body) > max || !strings.Contains(body, codeParameter) {
		return false
	}
	return !admin || strings.Contains(body, usernameParameter)
}

func (s *Service) badCustomMessage(ctx context.Context, p storage.Pool, member string) error {
	s.log.WarnContext(ctx, "trigger answered an unusable message", "pool", p.ID, "trigger", triggerCustomMessage, "member", member)
	return errorf(ErrInvalidLambdaResponse, "Invalid lambda response: %s must be at most its length and contain the code parameter %s (and %s for AdminCreateUser).", member, codeParameter, usernameParameter)
}

// RenderMessage is a queued message's custom subject and body with the
// code and (for invitations) the username substituted; empty strings
// when the message has the default text. Once the code is wiped, the
// placeholder stays.
func RenderMessage(m storage.Message) (subject, body string) {
	if m.Body == "" && m.Subject == "" {
		return "", ""
	}
	pairs := []string{codeParameter, m.Code}
	if m.Code == "" {
		pairs = pairs[:0]
	}
	if m.Kind == KindAdminCreateUser {
		pairs = append(pairs, usernameParameter, m.Username)
	}
	if len(pairs) == 0 {
		return m.Subject, m.Body
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace(m.Subject), r.Replace(m.Body)
}
