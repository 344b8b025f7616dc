package issuerclient

import (
	"context"
	"net/http"
)

// AssociateSoftwareToken starts an authenticator-app (TOTP) setup in the
// middle of a sign-in (the MFA_SETUP challenge's session). It returns
// the shared secret, unpadded base32, and the session to verify it with.
func (c *Client) AssociateSoftwareToken(ctx context.Context, session string) (secret, next string, err error) {
	var out struct {
		SecretCode string `json:"SecretCode"`
		Session    string `json:"Session"`
	}
	if err := c.call(ctx, "AssociateSoftwareToken", map[string]any{"Session": session}, &out); err != nil {
		return "", "", err
	}
	if out.SecretCode == "" || out.Session == "" {
		return "", "", malformed("AssociateSoftwareToken", http.StatusOK, []byte("no SecretCode or Session"))
	}
	return out.SecretCode, out.Session, nil
}

// VerifySoftwareToken checks the first code of an authenticator app set
// up with AssociateSoftwareToken during a sign-in; the session it
// returns answers MFA_SETUP.
func (c *Client) VerifySoftwareToken(ctx context.Context, session, code, deviceName string) (next string, err error) {
	in := map[string]any{"Session": session, "UserCode": code}
	if deviceName != "" {
		in["FriendlyDeviceName"] = deviceName
	}
	var out struct {
		Status  string `json:"Status"`
		Session string `json:"Session"`
	}
	if err := c.call(ctx, "VerifySoftwareToken", in, &out); err != nil {
		return "", err
	}
	if out.Status != "SUCCESS" || out.Session == "" {
		return "", malformed("VerifySoftwareToken", http.StatusOK, []byte("status "+out.Status))
	}
	return out.Session, nil
}

// StartUserAuth begins a choice-based sign-in (USER_AUTH) with only the
// username: the Result is the step the pool asks for, typically
// SELECT_CHALLENGE with the first factors the user can use, or, with
// preferred set (EMAIL_OTP, SMS_OTP, …) and available, that factor's step.
func (c *Client) StartUserAuth(ctx context.Context, username, preferred string) (Result, error) {
	params := map[string]string{"USERNAME": username}
	if preferred != "" {
		params["PREFERRED_CHALLENGE"] = preferred
	}
	c.addSecretHash(params, username)
	var out authOutput
	err := c.call(ctx, "InitiateAuth", map[string]any{
		"AuthFlow": "USER_AUTH", "ClientId": c.cfg.ClientID, "AuthParameters": params,
	}, &out)
	if err != nil {
		return Result{}, err
	}
	return c.result("InitiateAuth", out, username)
}

// CallAsUser calls op, one of the JSON API's operations that a user
// authorizes with an access token (AssociateSoftwareToken, ListDevices,
// StartWebAuthnRegistration, …), with in plus accessToken as AccessToken,
// and decodes the answer into out (nil to ignore it).
func (c *Client) CallAsUser(ctx context.Context, op, accessToken string, in map[string]any, out any) error {
	body := make(map[string]any, len(in)+1)
	for k, v := range in {
		body[k] = v
	}
	body["AccessToken"] = accessToken
	return c.call(ctx, op, body, out)
}
