package cognitoapi

// Tests that back claims of docs/SECURITY.md which no other test proves.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// publicOperations are the operations a client calls without SigV4
// (authorised by client id, token or code); every other operation is an
// admin operation.
var publicOperations = []string{
	"SignUp", "ConfirmSignUp", "ResendConfirmationCode", "InitiateAuth", "RespondToAuthChallenge",
	"GetTokensFromRefreshToken", "RevokeToken", "GlobalSignOut", "GetUser", "UpdateUserAttributes",
	"DeleteUserAttributes", "GetUserAttributeVerificationCode", "VerifyUserAttribute", "ChangePassword",
	"ForgotPassword", "ConfirmForgotPassword", "DeleteUser",
	"StartWebAuthnRegistration", "CompleteWebAuthnRegistration", "ListWebAuthnCredentials", "DeleteWebAuthnCredential",
	"ConfirmDevice", "UpdateDeviceStatus", "GetDevice", "ListDevices", "ForgetDevice",
	"GetUserAuthFactors",
	"AssociateSoftwareToken", "VerifySoftwareToken", "SetUserMFAPreference",
}

// TestEveryAdminOperationIsSigned: every operation but the public ones
// requires SigV4, and an unsigned or wrongly signed call of any of them is
// refused before the operation runs. The handler has no user-pool
// service at all: running an operation would panic.
func TestEveryAdminOperationIsSigned(t *testing.T) {
	const keyID, secret = "AKIACLAIMSCLAIMSCLAI", "claims-secret-access-key-0123456789"
	h := New(Options{Credentials: func(id string) (string, bool) { return secret, id == keyID }})
	admin := 0
	for name, o := range h.ops {
		if slices.Contains(publicOperations, name) {
			if o.signed {
				t.Errorf("%s: a public operation requires SigV4", name)
			}
			continue
		}
		admin++
		if !o.signed {
			t.Errorf("%s: an admin operation runs unsigned", name)
			continue
		}
		body := []byte(`{"UserPoolId":"us-east-1_claims","Username":"x","PoolName":"x","ClientName":"x","GroupName":"x","MaxResults":1}`)
		for _, c := range []struct {
			how, secret, want string
		}{
			{"unsigned", "", "MissingAuthenticationTokenException"},
			{"wrong secret", secret + "x", "InvalidSignatureException"},
		} {
			req := httptest.NewRequest(http.MethodPost, "http://cognito-idp.us-east-1.amazonaws.com/", bytes.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("X-Amz-Target", TargetPrefix+name)
			if c.secret != "" {
				sum := sha256.Sum256(body)
				creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: c.secret}
				if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "cognito-idp", "us-east-1", time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var e struct {
				Type string `json:"__type"`
			}
			json.Unmarshal(rec.Body.Bytes(), &e)
			if rec.Code != http.StatusBadRequest || e.Type != c.want {
				t.Errorf("%s %s: %d %s, want 400 %s", name, c.how, rec.Code, rec.Body, c.want)
			}
		}
	}
	if admin < 20 {
		t.Fatalf("only %d admin operations found", admin)
	}
}

// TestGuessableOperations: the per-address guess limit covers exactly the
// operations that test a password or a code, or send one.
func TestGuessableOperations(t *testing.T) {
	want := []string{
		"ChangePassword", "ConfirmForgotPassword", "ConfirmSignUp", "ForgotPassword", "GetUserAttributeVerificationCode",
		"InitiateAuth", "ResendConfirmationCode", "RespondToAuthChallenge", "SignUp", "VerifyUserAttribute",
		"VerifySoftwareToken",
	}
	slices.Sort(want)
	h := New(Options{})
	var got []string
	for name, o := range h.ops {
		if o.guessable {
			got = append(got, name)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("guessable operations %v, want %v", got, want)
	}
}
