package session

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/cognate-auth/cognate/internal/qr"
)

// Options are the allowed values of the ANSWER field: the MFA types of
// SELECT_MFA_TYPE (MFAS_CAN_CHOOSE), the first factors of
// SELECT_CHALLENGE that a server-side form can answer (EMAIL_OTP,
// SMS_OTP, PASSWORD), and the kinds of MFA an MFA_SETUP step lets the
// user choose between (SOFTWARE_TOKEN_MFA, EMAIL_OTP). Nil when the step
// has no choice.
func (c *Challenge) Options() []string {
	switch c.Name {
	case "SELECT_MFA_TYPE":
		return jsonList(c.Parameters["MFAS_CAN_CHOOSE"])
	case "SELECT_CHALLENGE":
		var out []string
		for _, a := range c.Available {
			// SRP needs the password itself: a form answers with a code,
			// the password, or a passkey (the WEB_AUTHN step's page runs
			// the browser's ceremony).
			if a == "EMAIL_OTP" || a == "SMS_OTP" || a == "PASSWORD" || a == "WEB_AUTHN" {
				out = append(out, a)
			}
		}
		return out
	case "MFA_SETUP":
		if types := c.setupTypes(); c.secret == "" && len(types) > 1 {
			return types
		}
	}
	return nil
}

// PasskeyOptions is a WEB_AUTHN step's CREDENTIAL_REQUEST_OPTIONS (the
// JSON that PublicKeyCredential.parseRequestOptionsFromJSON takes), or
// "". The page passes them to navigator.credentials.get and answers the
// step's CREDENTIAL field with the credential's toJSON().
func (c *Challenge) PasskeyOptions() string {
	if c.Name != "WEB_AUTHN" {
		return ""
	}
	return c.Parameters["CREDENTIAL_REQUEST_OPTIONS"]
}

// TOTPSecret is the authenticator-app secret (unpadded base32) of an
// MFA_SETUP step that waits for the app's first code, or "".
func (c *Challenge) TOTPSecret() string { return c.secret }

// TOTPSetupURI is the otpauth:// link of TOTPSecret for authenticator
// apps, labelled issuer:<the user's sign-in name>, or "" when there is no
// secret to set up. TOTPSetupQR is the same link as an inline SVG QR code.
func (c *Challenge) TOTPSetupURI(issuer string) string {
	if c.secret == "" {
		return ""
	}
	account := c.loginID
	if account == "" {
		account = c.username
	}
	return qr.TOTPURI(issuer, account, c.secret)
}

// setupTypes are the MFA kinds an MFA_SETUP step can set up here: an
// authenticator app and email (SMS needs a phone number the pool
// verifies elsewhere).
func (c *Challenge) setupTypes() []string {
	var out []string
	for _, t := range jsonList(c.Parameters["MFAS_CAN_SETUP"]) {
		if t == "SOFTWARE_TOKEN_MFA" || t == "EMAIL_OTP" {
			out = append(out, t)
		}
	}
	return out
}

func (c *Challenge) setupFields() []string {
	switch types := c.setupTypes(); {
	case c.secret != "":
		return []string{"SOFTWARE_TOKEN_MFA_CODE"}
	case len(types) > 1:
		return []string{"ANSWER"}
	case slices.Equal(types, []string{"EMAIL_OTP"}):
		return []string{"EMAIL"}
	}
	return nil
}

// answerSetup takes one answer of an MFA_SETUP step: the kind chosen
// (kept here until its own step is answered), the authenticator app's
// first code (VerifySoftwareToken, then MFA_SETUP with the session it
// returns), or the email address to send codes to.
func (m *Manager) answerSetup(w http.ResponseWriter, r *http.Request, c *Challenge, responses map[string]string) (*Challenge, error) {
	ctx := r.Context()
	switch {
	case responses["ANSWER"] == "SOFTWARE_TOKEN_MFA":
		return m.associate(w, r, c)
	case responses["ANSWER"] == "EMAIL_OTP":
		next := *c
		next.Parameters = map[string]string{"MFAS_CAN_SETUP": `["EMAIL_OTP"]`}
		return m.keep(w, &next), nil
	case c.secret != "":
		session, err := m.iss.VerifySoftwareToken(ctx, c.session, responses["SOFTWARE_TOKEN_MFA_CODE"], "")
		if err != nil {
			return nil, authError(err)
		}
		res, err := m.iss.RespondToChallenge(ctx, "MFA_SETUP", session, c.username, nil)
		return m.step(w, r, res, err, c)
	case responses["EMAIL"] != "":
		res, err := m.iss.RespondToChallenge(ctx, "MFA_SETUP", c.session, c.username, map[string]string{"EMAIL": responses["EMAIL"]})
		return m.step(w, r, res, err, c)
	}
	return nil, &AuthError{Code: "NotSupported", Message: "This MFA setup step needs an app page of its own."}
}

// associate starts the authenticator-app setup of an MFA_SETUP step.
func (m *Manager) associate(w http.ResponseWriter, r *http.Request, c *Challenge) (*Challenge, error) {
	secret, session, err := m.iss.AssociateSoftwareToken(r.Context(), c.session)
	if err != nil {
		return nil, authError(err)
	}
	next := *c
	next.Parameters = map[string]string{"MFAS_CAN_SETUP": `["SOFTWARE_TOKEN_MFA"]`}
	next.session, next.secret, next.expires = session, secret, m.now().Add(challengeTTL)
	return m.keep(w, &next), nil
}

func jsonList(s string) []string {
	var out []string
	_ = json.Unmarshal([]byte(s), &out)
	return out
}
