package demo

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/internal/qr"
	"github.com/cognate-auth/cognate/issuerclient"
	"github.com/cognate-auth/cognate/session"
)

// securityPath is the account-security page: the user's authenticator
// app, passkeys and remembered devices, managed through the session
// library's Account with the session's own access token.
const securityPath = "/account/security"

type securityData struct {
	CSRF, Notice, Error string
	// TOTP is on when an authenticator app is set up; Setup holds an app
	// being set up (its secret and QR code).
	TOTP        bool
	Setup       *totpSetup
	Passkeys    []passkey
	Devices     []device
	Unavailable []string
}

type totpSetup struct {
	Secret string
	QR     template.HTML
}

type passkey struct {
	ID, Name string
	Created  time.Time
}

type device struct {
	Key, Name, Status string
	LastSeen          time.Time
}

// security serves the page (GET) and its forms (POST, by action).
func (a *app) security(w http.ResponseWriter, r *http.Request) {
	if a.signedIn(w, r) == nil {
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		a.renderSecurity(w, r, http.StatusOK, securityData{Notice: securityNotices[r.URL.Query().Get("done")]})
	case http.MethodPost:
		a.securityPost(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		a.renderError(w, r, http.StatusMethodNotAllowed)
	}
}

var securityNotices = map[string]string{
	"totp": "Your authenticator app is set up: sign-ins now ask for its code.", "passkey": "Passkey added.",
	"passkey-removed": "Passkey removed.", "device-forgotten": "Device forgotten: it will be asked for a second step again.",
}

func (a *app) securityPost(w http.ResponseWriter, r *http.Request) {
	if status, msg := a.readForm(w, r); status != 0 {
		a.renderSecurity(w, r, status, securityData{Error: msg})
		return
	}
	ctx := r.Context()
	var err error
	done := ""
	switch r.PostFormValue("action") {
	case "totp-start":
		var out struct{ SecretCode string }
		if err = a.s.Account(ctx, "AssociateSoftwareToken", nil, &out); err == nil {
			a.renderSecurity(w, r, http.StatusOK, securityData{Setup: a.totpSetup(r, out.SecretCode)})
			return
		}
	case "totp-verify":
		code := strings.TrimSpace(r.PostFormValue("code"))
		err = a.s.Account(ctx, "VerifySoftwareToken", map[string]any{"UserCode": code, "FriendlyDeviceName": "Demo"}, nil)
		if err == nil {
			err = a.s.Account(ctx, "SetUserMFAPreference", map[string]any{
				"SoftwareTokenMfaSettings": map[string]bool{"Enabled": true, "PreferredMfa": true},
			}, nil)
		}
		done = "totp"
		if err != nil {
			d := securityData{Error: accountMessage(err), Setup: a.totpSetup(r, r.PostFormValue("secret"))}
			a.renderSecurity(w, r, http.StatusBadRequest, d)
			return
		}
	case "passkey-options":
		var out struct{ CredentialCreationOptions json.RawMessage }
		if err = a.s.Account(ctx, "StartWebAuthnRegistration", nil, &out); err == nil {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(out.CredentialCreationOptions)
			return
		}
	case "passkey-add":
		var cred json.RawMessage
		if err = json.Unmarshal([]byte(r.PostFormValue("credential")), &cred); err == nil {
			err = a.s.Account(ctx, "CompleteWebAuthnRegistration", map[string]any{"Credential": cred}, nil)
		}
		done = "passkey"
	case "passkey-remove":
		err = a.s.Account(ctx, "DeleteWebAuthnCredential", map[string]any{"CredentialId": r.PostFormValue("id")}, nil)
		done = "passkey-removed"
	case "device-forget":
		err = a.s.Account(ctx, "ForgetDevice", map[string]any{"DeviceKey": r.PostFormValue("key")}, nil)
		done = "device-forgotten"
	default:
		a.renderSecurity(w, r, http.StatusBadRequest, securityData{Error: "Unknown action."})
		return
	}
	if err != nil {
		a.log.InfoContext(ctx, "demo: account security", "action", r.PostFormValue("action"), "err", err)
		a.renderSecurity(w, r, http.StatusBadRequest, securityData{Error: accountMessage(err)})
		return
	}
	http.Redirect(w, r, securityPath+"?done="+done, http.StatusSeeOther)
}

func (a *app) totpSetup(r *http.Request, secret string) *totpSetup {
	if secret == "" {
		return nil
	}
	account := displayName(session.FromContext(r.Context()))
	svg, err := qr.SVG(qr.TOTPURI("Cognate demo", account, secret), "QR code to scan with an authenticator app")
	if err != nil {
		a.log.WarnContext(r.Context(), "demo: QR code", "err", err)
	}
	return &totpSetup{Secret: secret, QR: svg}
}

// accountMessage turns an issuer's refusal into a sentence.
func accountMessage(err error) string {
	var ie *issuerclient.Error
	switch {
	case errors.As(err, &ie) && ie.Type == "CodeMismatchException", errors.As(err, &ie) && ie.Type == "EnableSoftwareTokenMFAException":
		return "That code is not right. Check the app's clock and try again."
	case errors.As(err, &ie) && ie.Message != "":
		return ie.Message
	case errors.Is(err, issuerclient.ErrUnavailable):
		return "The sign-in service is unavailable right now. Try again shortly."
	}
	return "That did not work. Try again."
}

// renderSecurity fills d with the account's current state and renders it.
func (a *app) renderSecurity(w http.ResponseWriter, r *http.Request, status int, d securityData) {
	ctx := r.Context()
	d.CSRF = a.csrfToken(w, r)
	var user struct{ UserMFASettingList []string }
	if err := a.s.Account(ctx, "GetUser", nil, &user); err != nil {
		d.Unavailable = append(d.Unavailable, "authenticator app")
	}
	for _, m := range user.UserMFASettingList {
		d.TOTP = d.TOTP || m == "SOFTWARE_TOKEN_MFA"
	}
	var creds struct {
		Credentials []struct {
			CredentialID           string  `json:"CredentialId"`
			FriendlyCredentialName string  `json:"FriendlyCredentialName"`
			CreatedAt              float64 `json:"CreatedAt"`
		}
	}
	if err := a.s.Account(ctx, "ListWebAuthnCredentials", nil, &creds); err != nil {
		d.Unavailable = append(d.Unavailable, "passkeys")
	}
	for _, c := range creds.Credentials {
		d.Passkeys = append(d.Passkeys, passkey{ID: c.CredentialID, Name: c.FriendlyCredentialName, Created: epoch(c.CreatedAt)})
	}
	var devs struct {
		Devices []struct {
			DeviceKey                   string
			DeviceAttributes            []struct{ Name, Value string }
			DeviceLastAuthenticatedDate float64
		}
	}
	if err := a.s.Account(ctx, "ListDevices", map[string]any{"Limit": 60}, &devs); err != nil {
		d.Unavailable = append(d.Unavailable, "remembered devices")
	}
	for _, dv := range devs.Devices {
		x := device{Key: dv.DeviceKey, LastSeen: epoch(dv.DeviceLastAuthenticatedDate)}
		for _, at := range dv.DeviceAttributes {
			switch at.Name {
			case "device_name":
				x.Name = at.Value
			case "device_status":
				x.Status = at.Value
			}
		}
		d.Devices = append(d.Devices, x)
	}
	a.render(w, r, status, "security", &view{
		Title: "Account security", Eyebrow: "Session library: Account", Nav: "security",
		Lede: "Your second sign-in step, passkeys and remembered devices, managed with your own access token.",
		Data: d,
	})
}

// epoch turns the JSON API's epoch seconds into a time.
func epoch(s float64) time.Time {
	if s <= 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(s*float64(time.Second))).UTC()
}
