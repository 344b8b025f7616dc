package integration_test

// Tests that back claims of docs/SECURITY.md which no other test proves,
// through the wire and the server's own data directory.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// databaseBytes is everything SQLite keeps on disk for e: the database
// file, its write-ahead log and shared-memory index.
func (e *env) databaseBytes() []byte {
	e.t.Helper()
	files, err := filepath.Glob(filepath.Join(e.data, "cognate.db*"))
	if err != nil || len(files) == 0 {
		e.t.Fatalf("database files: %v %v", files, err)
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestSecretsNotStoredInClear signs a user up and in (the refresh token is
// 48 random bytes), then reads the database files byte for byte: the password is not there in any form a
// scan finds, nor the refresh token; what is there is the SRP salt the
// server hands out and the refresh token's SHA-256 (which shows the scan
// sees what was written).
func TestSecretsNotStoredInClear(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const pw = "Unmistakable-Passw0rd-7431"
	must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String("vault@example.com"), Password: aws.String(pw)}))(t)
	must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{
		ClientId: aws.String(e.pub), Username: aws.String("vault@example.com"), ConfirmationCode: aws.String(e.code("vault@example.com", "sign_up")),
	}))(t)
	tok := e.signIn(e.pub, "vault@example.com", pw)
	_, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, "vault@example.com", nil))
	salt, err := hex.DecodeString(cp["SALT"])
	if err != nil {
		t.Fatal(err)
	}
	refresh := aws.ToString(tok.RefreshToken)
	if raw, err := base64.RawURLEncoding.DecodeString(refresh); err != nil || len(raw) != 48 {
		t.Fatalf("refresh token %q: %d bytes (%v), want 48 random bytes", refresh, len(raw), err)
	}
	sum := sha256.Sum256([]byte(refresh))

	db := e.databaseBytes()
	if !bytes.Contains(db, salt) || !bytes.Contains(db, sum[:]) {
		t.Fatalf("the scan does not see the SRP salt (%v) or the refresh token's SHA-256 (%v)", bytes.Contains(db, salt), bytes.Contains(db, sum[:]))
	}
	for name, secret := range map[string]string{
		"password": pw, "password, lower case": strings.ToLower(pw), "refresh token": refresh,
		"refresh token's first half": refresh[:len(refresh)/2], "access token's signature": aws.ToString(tok.AccessToken)[strings.LastIndexByte(aws.ToString(tok.AccessToken), '.')+1:],
	} {
		if bytes.Contains(db, []byte(secret)) {
			t.Errorf("the database files hold the %s in clear", name)
		}
	}
}

// TestOAuthSecretsNotStoredInClear: after a hosted sign-in and a code
// exchange — the pool session cookie, the code and the refresh token each
// 48 random bytes — the database files hold the SHA-256 of the pool session
// cookie, the authorization code and the refresh token, and none of the
// three in clear.
func TestOAuthSecretsNotStoredInClear(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	e.newUser("oauth-vault@example.com")
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	req, code := b.login(conf, "oauth-vault@example.com", password)
	session := b.sessionCookie()
	if session == nil {
		t.Fatal("no pool session cookie")
	}
	tok := e.exchange(conf, req, code)
	db := e.databaseBytes()
	for name, secret := range map[string]string{
		"pool session cookie": session.Value, "authorization code": code, "refresh token": tok.RefreshToken,
	} {
		if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) != 48 {
			t.Errorf("the %s is %d bytes (%v), want 48 random bytes", name, len(raw), err)
		}
		sum := sha256.Sum256([]byte(secret))
		if !bytes.Contains(db, sum[:]) {
			t.Errorf("the %s's SHA-256 is not in the database files", name)
		}
		if bytes.Contains(db, []byte(secret)) {
			t.Errorf("the database files hold the %s in clear", name)
		}
	}
}
