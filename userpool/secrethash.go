package userpool

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"

	"github.com/cognate-auth/cognate/storage"
)

// SecretHash computes Cognito's SECRET_HASH:
// Base64(HMAC-SHA256(key=clientSecret, msg=username+clientId)).
func SecretHash(clientSecret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkSecretHash requires a valid SECRET_HASH from callers of a
// confidential client. Cognito computes it over the name the caller
// used, so that is what is checked.
func checkSecretHash(c storage.Client, username, got string) error {
	if c.Secret == "" {
		return nil
	}
	if got == "" {
		return errorf(ErrNotAuthorized, "Client %s is configured with secret but SECRET_HASH was not received", c.ClientID)
	}
	want := SecretHash(c.Secret, username, c.ClientID)
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return errorf(ErrNotAuthorized, "Unable to verify secret hash for client %s", c.ClientID)
	}
	return nil
}

// checkClientSecret authenticates the ClientSecret member some operations
// take instead of SECRET_HASH.
func checkClientSecret(c storage.Client, got string) error {
	if c.Secret == "" {
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(c.Secret), []byte(got)) != 1 {
		return errorf(ErrNotAuthorized, "Unable to verify secret for client %s", c.ClientID)
	}
	return nil
}
