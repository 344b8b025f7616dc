package userpool

import (
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/storage"
)

// TestRenderMessage: the code (and, for invitations, the username) are put
// in one pass, so a username that looks like a placeholder stays as typed.
func TestRenderMessage(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		m                        storage.Message
		wantSubject, wantMessage string
	}{
		{"default text", storage.Message{Kind: KindSignUp, Code: "123456"}, "", ""},
		{"sign-up", storage.Message{Kind: KindSignUp, Code: "123456", Subject: "Code {####}", Body: "Hi {username}, {####}"},
			"Code 123456", "Hi {username}, 123456"},
		{"invitation", storage.Message{Kind: KindAdminCreateUser, Username: "{####}", Code: "Tmp-1", Body: "{username}: {####}"},
			"", "{####}: Tmp-1"},
		{"code wiped", storage.Message{Kind: KindSignUp, Body: "code {####}"}, "", "code {####}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			subject, body := RenderMessage(tc.m)
			if subject != tc.wantSubject || body != tc.wantMessage {
				t.Fatalf("RenderMessage = %q, %q; want %q, %q", subject, body, tc.wantSubject, tc.wantMessage)
			}
		})
	}
}

// TestValidCustomText: Cognito's rules on a CustomMessage answer.
func TestValidCustomText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		max   int
		admin bool
		want  bool
	}{
		{"empty keeps the default", "", maxCustomSMS, false, true},
		{"with the code", "Code: {####}", maxCustomSMS, false, true},
		{"without the code", "Hello", maxCustomSMS, false, false},
		{"invitation without the username", "Password {####}", maxCustomEmail, true, false},
		{"invitation", "{username} / {####}", maxCustomEmail, true, true},
		{"140 characters", strings.Repeat("é", 134) + "{####}", maxCustomSMS, false, true},
		{"141 characters", strings.Repeat("é", 135) + "{####}", maxCustomSMS, false, false},
		{"invalid UTF-8", "{####}\xff", maxCustomSMS, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := validCustomText(tc.body, tc.max, tc.admin); got != tc.want {
				t.Fatalf("validCustomText = %v, want %v", got, tc.want)
			}
		})
	}
}
