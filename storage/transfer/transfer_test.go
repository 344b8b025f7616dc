package transfer_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cognate-auth/cognate/events/apikeys"
	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
	"github.com/cognate-auth/cognate/storage/transfer"
	"github.com/cognate-auth/cognate/userpool"
)

const (
	annEmail = "ann@example.com"
	annPass  = "Passw0rd!ann"
	bobEmail = "bob@example.com"
	bobPass  = "Passw0rd!bob"
	cyEmail  = "cy@example.com"
	cyPass   = "Cy-Old-Passw0rd"
)

// openSQLite opens a fresh SQLite store closed when t ends.
func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cognate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// service runs the user pool domain on store, as a server would.
func service(t *testing.T, store storage.Storage) *userpool.Service {
	t.Helper()
	svc, err := userpool.New(t.Context(), userpool.Options{
		Storage: store, Keys: keys.NewManager(store, keys.Options{}), IssuerBase: "http://cognate.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// source is an installation filled through the domain: what the copy
// must carry over.
type source struct {
	store                *sqlite.Store
	poolID, clientID     string
	annUsername          string
	refreshToken, access string
	bobUsername, bobCode string
	apiKey               string
	passkey              storage.WebAuthnCredential
	device               storage.Device
	idp                  storage.IdentityProvider
	link                 storage.FederatedLink
}

func fill(t *testing.T) source {
	t.Helper()
	ctx := t.Context()
	src := source{store: openSQLite(t)}
	svc := service(t, src.store)
	p, err := svc.CreateUserPool(ctx, userpool.CreateUserPoolInput{PoolName: "migrating", UsernameAttributes: []string{"email"}, AutoVerifiedAttributes: []string{"email"}})
	must(t, err)
	src.poolID = p.UserPool.Id
	c, err := svc.CreateUserPoolClient(ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: src.poolID, ClientName: "web",
		ExplicitAuthFlows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}})
	must(t, err)
	src.clientID = c.UserPoolClient.ClientId

	// ann: signed up, confirmed, in a group, signed in (a refresh family
	// with its token, and an access token signed with the key that is
	// then rotated away).
	_, err = svc.SignUp(ctx, userpool.SignUpInput{ClientId: src.clientID, Username: annEmail, Password: annPass})
	must(t, err)
	_, err = svc.ConfirmSignUp(ctx, userpool.ConfirmSignUpInput{ClientId: src.clientID, Username: annEmail, ConfirmationCode: lastCode(t, src.store, annEmail)})
	must(t, err)
	ann, err := src.store.GetUserByEmail(ctx, src.poolID, annEmail)
	must(t, err)
	src.annUsername = ann.Username
	for _, g := range []struct {
		name       string
		precedence *int64
	}{{"admins", ptr[int64](1)}, {"readers", nil}} {
		_, err = svc.CreateGroup(ctx, userpool.CreateGroupInput{UserPoolId: src.poolID, GroupName: g.name, Description: "the " + g.name, Precedence: g.precedence})
		must(t, err)
	}
	_, err = svc.AdminAddUserToGroup(ctx, userpool.AdminGroupMembershipInput{UserPoolId: src.poolID, Username: ann.Username, GroupName: "admins"})
	must(t, err)
	out := passwordSignIn(t, svc, src.clientID, annEmail, annPass)
	src.refreshToken, src.access = out.AuthenticationResult.RefreshToken, out.AuthenticationResult.AccessToken
	passwordSignIn(t, svc, src.clientID, annEmail, annPass) // a second family
	must(t, keys.NewManager(src.store, keys.Options{}).Rotate(ctx, src.poolID, "access"))
	ks, err := src.store.ListSigningKeys(ctx, src.poolID)
	must(t, err)
	if len(ks) < 3 {
		t.Fatalf("after a rotation the pool has %d keys, want 3 or more", len(ks))
	}

	// bob: signed up, not confirmed: his code is pending.
	_, err = svc.SignUp(ctx, userpool.SignUpInput{ClientId: src.clientID, Username: bobEmail, Password: bobPass})
	must(t, err)
	src.bobCode = lastCode(t, src.store, bobEmail)
	bob, err := src.store.GetUserByEmail(ctx, src.poolID, bobEmail)
	must(t, err)
	src.bobUsername = bob.Username

	src.apiKey, _, err = apikeys.New(src.store, apikeys.Options{}).Create(ctx, "events", 24*time.Hour)
	must(t, err)
	src.passkey = storage.WebAuthnCredential{
		PoolID: src.poolID, ID: []byte{1, 2, 3}, Username: ann.Username, PublicKey: []byte{0xa5, 1, 2}, SignCount: 3,
		RelyingPartyID: "localhost", FriendlyName: "Platform passkey", Attachment: "platform",
		Transports: []string{"internal"}, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}
	must(t, src.store.CreateWebAuthnCredential(ctx, src.passkey))
	now := time.Now().UTC().Truncate(time.Microsecond)
	src.device = storage.Device{
		PoolID: src.poolID, Key: "us-east-1_0f4c8bd2-9d5e-4b5a-8d3c-1e2f3a4b5c6d", Username: ann.Username, GroupKey: "-abcdefghi",
		Name: "ann's laptop", Remembered: true, Salt: []byte{1, 2}, Verifier: []byte{3, 4}, LastIP: "192.0.2.1",
		CreatedAt: now, UpdatedAt: now, LastAuthenticatedAt: now,
	}
	must(t, src.store.CreateDevice(ctx, src.device))
	src.idp = storage.IdentityProvider{
		PoolID: src.poolID, Name: "Okta", Type: "OIDC", Details: map[string]string{"client_id": "c", "client_secret": "sealed:x"},
		AttributeMapping: map[string]string{"email": "email"}, Identifiers: []string{"example.com"}, CreatedAt: now, UpdatedAt: now,
	}
	must(t, src.store.CreateIdentityProvider(ctx, src.idp))
	src.link = storage.FederatedLink{PoolID: src.poolID, ProviderName: "Okta", Subject: "okta-sub", Username: ann.Username, CreatedAt: now}
	must(t, src.store.CreateFederatedLink(ctx, src.link))
	// cy was imported with the password hash of another system and has
	// not signed in since.
	cyHash, err := bcrypt.GenerateFromPassword([]byte(cyPass), 4)
	must(t, err)
	res, err := svc.ImportUsers(ctx, src.poolID, []userpool.ImportedUser{{Attributes: map[string]string{"email": cyEmail}, PasswordHash: string(cyHash)}})
	must(t, err)
	if res[0].Outcome != userpool.ImportOutcomeImported {
		t.Fatalf("import cy: %+v", res[0])
	}
	return src
}

// testCopy copies a filled source into the target that open returns and
// proves, through the domain on the target, that nothing was lost.
func testCopy(t *testing.T, open func(t *testing.T) storage.Storage) {
	ctx := t.Context()
	src := fill(t)
	to := open(t)

	report, err := transfer.Copy(ctx, src.store, to, transfer.Options{BatchSize: 2})
	must(t, err)
	if !report.OK() {
		t.Fatalf("first copy does not verify: %+v", report)
	}
	want := map[transfer.Kind]int64{
		transfer.Secrets: 4, transfer.Pools: 1, transfer.Clients: 1, transfer.Users: 3, transfer.Groups: 2,
		transfer.GroupMembers: 1, transfer.Codes: 2, // ann's used code stays until it expires
		transfer.RefreshFamilies: 2, transfer.RefreshTokens: 2, transfer.APIKeys: 1,
		transfer.Passkeys: 1, transfer.Devices: 1, transfer.PasswordHashes: 1, transfer.IdPs: 1, transfer.FederatedLinks: 1,
	}
	for _, k := range report.Kinds {
		if w, ok := want[k.Kind]; ok && k.Source != w {
			t.Errorf("%s: source %d, want %d", k.Kind, k.Source, w)
		}
		if k.Source == 0 {
			t.Errorf("%s: nothing in the source: the fixture misses a kind", k.Kind)
		}
		if k.Copied != k.Source || k.Present != 0 || k.TargetAfter != k.Source || k.TargetBefore != 0 {
			t.Errorf("first copy, %s: %+v", k.Kind, k)
		}
	}

	again, err := transfer.Copy(ctx, src.store, to, transfer.Options{})
	must(t, err)
	if !again.OK() || len(again.Differences) != 0 {
		t.Fatalf("second copy: %+v", again)
	}
	for _, k := range again.Kinds {
		if k.Copied != 0 || k.Present != k.Source || k.TargetAfter != k.Source {
			t.Errorf("second copy, %s: %+v, want all present", k.Kind, k)
		}
	}

	// The target, through the domain.
	svc := service(t, to)
	if _, err := svc.VerifyToken(ctx, src.access); err != nil {
		t.Errorf("an access token issued before the copy, signed by a key rotated away since: %v", err)
	}
	refreshed, err := svc.GetTokensFromRefreshToken(ctx, userpool.GetTokensFromRefreshTokenInput{ClientId: src.clientID, RefreshToken: src.refreshToken})
	if err != nil || refreshed.AuthenticationResult == nil || refreshed.AuthenticationResult.AccessToken == "" {
		t.Errorf("refresh with a token issued before the copy: %+v, %v", refreshed, err)
	}
	srpSignIn(t, svc, src.poolID, src.clientID, annEmail, annPass)
	passwordSignIn(t, svc, src.clientID, annEmail, annPass)
	groups, err := svc.AdminListGroupsForUser(ctx, userpool.AdminListGroupsForUserInput{UserPoolId: src.poolID, Username: src.annUsername})
	must(t, err)
	if len(groups.Groups) != 1 || groups.Groups[0].GroupName != "admins" {
		t.Errorf("ann's groups on the target: %+v", groups.Groups)
	}
	if _, err := apikeys.New(to, apikeys.Options{}).Lookup(ctx, src.apiKey); err != nil {
		t.Errorf("API key on the target: %v", err)
	}
	if pk, err := to.GetWebAuthnCredential(ctx, src.poolID, src.passkey.ID); err != nil || pk.SignCount != 3 || pk.Username != src.annUsername {
		t.Errorf("passkey on the target: %+v, %v", pk, err)
	}
	if d, err := to.GetDevice(ctx, src.poolID, src.device.Key); err != nil || d.Username != src.annUsername || string(d.Verifier) != string(src.device.Verifier) {
		t.Errorf("device on the target: %+v, %v", d, err)
	}
	if p, err := to.GetIdentityProvider(ctx, src.poolID, "Okta"); err != nil || p.Details["client_secret"] != "sealed:x" || p.Identifiers[0] != "example.com" {
		t.Errorf("identity provider on the target: %+v, %v", p, err)
	}
	if l, err := to.GetFederatedLink(ctx, src.poolID, "Okta", "okta-sub"); err != nil || l.Username != src.annUsername {
		t.Errorf("federated link on the target: %+v, %v", l, err)
	}
	_, err = svc.ConfirmSignUp(ctx, userpool.ConfirmSignUpInput{ClientId: src.clientID, Username: bobEmail, ConfirmationCode: src.bobCode})
	must(t, err)
	passwordSignIn(t, svc, src.clientID, bobEmail, bobPass)

	// bob changed on the target: copying again reports him rather than
	// overwriting him.
	drift, err := transfer.Copy(ctx, src.store, to, transfer.Options{DryRun: true})
	must(t, err)
	if drift.OK() || drift.Kind(transfer.Users).Differing != 1 {
		t.Fatalf("copy after the target changed: %+v", drift)
	}
	if d := drift.Differences[0]; d.Kind != transfer.Users || d.Key != src.poolID+"/"+src.bobUsername || !strings.Contains(d.Detail, "Status") {
		t.Errorf("difference: %+v", d)
	}
	// cy signs in on the target with the password of the system cy was
	// imported from.
	passwordSignIn(t, svc, src.clientID, cyEmail, cyPass)
}

func TestCopySQLiteToSQLite(t *testing.T) {
	testCopy(t, func(t *testing.T) storage.Storage { return openSQLite(t) })
}

func TestDryRunWritesNothing(t *testing.T) {
	src := fill(t)
	to := openSQLite(t)
	report, err := transfer.Copy(t.Context(), src.store, to, transfer.Options{DryRun: true})
	must(t, err)
	if !report.OK() || report.Kind(transfer.Users).Copied != 3 || report.Kind(transfer.Users).TargetAfter != 0 {
		t.Fatalf("dry run: %+v", report)
	}
	pools, err := to.ListPools(t.Context())
	must(t, err)
	if len(pools) != 0 {
		t.Fatalf("a dry run wrote %d pools", len(pools))
	}
}

// A target a server has run on holds secrets of its own: Copy refuses
// it before writing anything.
func TestSecretConflictStopsBeforeWriting(t *testing.T) {
	src := fill(t)
	to := openSQLite(t)
	service(t, to)
	_, err := transfer.Copy(t.Context(), src.store, to, transfer.Options{})
	if !errors.Is(err, transfer.ErrSecretConflict) || !strings.Contains(err.Error(), "userpool/code-hash") {
		t.Fatalf("err = %v, want a secret conflict naming userpool/code-hash", err)
	}
	if strings.Contains(err.Error(), "userpool/session-seal") {
		t.Errorf("err = %v: session-seal is safe to keep, it is no conflict", err)
	}
	pools, err := to.ListPools(t.Context())
	must(t, err)
	if len(pools) != 0 {
		t.Fatalf("Copy wrote %d pools before stopping", len(pools))
	}
}

// A target that holds other data keeps it; the verification says so.
func TestTargetWithOtherData(t *testing.T) {
	ctx := t.Context()
	src := fill(t)
	to := openSQLite(t)
	must(t, to.CreatePool(ctx, storage.Pool{ID: "us-east-1_other", Name: "other", CreatedAt: time.Now()}))
	report, err := transfer.Copy(ctx, src.store, to, transfer.Options{})
	must(t, err)
	pools := report.Kind(transfer.Pools)
	if !report.OK() || pools.Other() != 1 || pools.TargetBefore != 1 || pools.TargetAfter != 2 {
		t.Fatalf("pools: %+v (report %+v)", pools, report)
	}
}

func TestTargetMustBeEnumerable(t *testing.T) {
	src := fill(t)
	_, err := transfer.Copy(t.Context(), src.store, struct{ storage.Storage }{openSQLite(t)}, transfer.Options{})
	if !errors.Is(err, transfer.ErrTargetNotEnumerable) {
		t.Fatalf("err = %v", err)
	}
}

func lastCode(t *testing.T, store storage.Storage, dest string) string {
	t.Helper()
	msgs, err := store.ListMessages(t.Context(), 50)
	must(t, err)
	for _, m := range msgs {
		if m.Destination == dest {
			return m.Code
		}
	}
	t.Fatalf("no code for %s", dest)
	return ""
}

func passwordSignIn(t *testing.T, svc *userpool.Service, clientID, user, pw string) userpool.AuthOutput {
	t.Helper()
	out, err := svc.InitiateAuth(t.Context(), userpool.InitiateAuthInput{ClientId: clientID, AuthFlow: "USER_PASSWORD_AUTH",
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": pw}})
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("USER_PASSWORD_AUTH as %s: %+v, %v", user, out, err)
	}
	return out
}

func srpSignIn(t *testing.T, svc *userpool.Service, poolID, clientID, user, pw string) {
	t.Helper()
	c, err := srp.NewClient(poolID)
	must(t, err)
	out, err := svc.InitiateAuth(t.Context(), userpool.InitiateAuthInput{ClientId: clientID, AuthFlow: "USER_SRP_AUTH",
		AuthParameters: map[string]string{"USERNAME": user, "SRP_A": c.AHex()}})
	must(t, err)
	p := out.ChallengeParameters
	sig, ts, err := c.Respond(p["USER_ID_FOR_SRP"], pw, p["SALT"], p["SRP_B"], p["SECRET_BLOCK"], time.Now())
	must(t, err)
	res, err := svc.RespondToAuthChallenge(t.Context(), userpool.RespondToAuthChallengeInput{ClientId: clientID, ChallengeName: "PASSWORD_VERIFIER",
		ChallengeResponses: map[string]string{"USERNAME": p["USER_ID_FOR_SRP"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
			"TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig}})
	if err != nil || res.AuthenticationResult == nil {
		t.Fatalf("SRP sign-in as %s: %+v, %v", user, res, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
