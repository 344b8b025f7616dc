package storagetest

import (
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// The record builders fill every field, so round trips check them all.

func poolRecord(id string) storage.Pool {
	return storage.Pool{
		ID:        id,
		Name:      "Pool " + id,
		CreatedAt: base,
		UpdatedAt: base.Add(time.Minute),
		Settings: storage.PoolSettings{
			UsernameAttributes:     []string{"email"},
			AutoVerifiedAttributes: []string{"email", "phone_number"},
			PasswordPolicy: storage.PasswordPolicy{
				MinimumLength: 12, RequireUppercase: true, RequireLowercase: true,
				RequireNumbers: true, RequireSymbols: true, TemporaryPasswordValidityDays: 7,
			},
			Schema: []storage.SchemaAttribute{
				{Name: "email", AttributeDataType: "String", Mutable: true, Required: true},
				{Name: "tenant", AttributeDataType: "String", Mutable: false, MinLength: 1, MaxLength: 64},
			},
			MFAConfiguration:                          "OPTIONAL",
			DeletionProtection:                        "ACTIVE",
			AttributesRequireVerificationBeforeUpdate: []string{"email"},
			AllowAdminCreateUserOnly:                  true,
			Domain:                                    "auth.example.com",
		},
	}
}

func clientRecord(poolID, id string) storage.Client {
	return storage.Client{
		ClientID:  id,
		PoolID:    poolID,
		Name:      "Client " + id,
		Secret:    "secret-" + id,
		CreatedAt: base,
		UpdatedAt: base.Add(time.Second),
		Settings: storage.ClientSettings{
			ExplicitAuthFlows:    []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
			AccessTokenValidity:  60,
			IDTokenValidity:      2,
			RefreshTokenValidity: 30,
			TokenValidityUnits: storage.TokenValidityUnits{
				AccessToken: "minutes", IDToken: "hours", RefreshToken: "days",
			},
			AuthSessionValidity:             3,
			PreventUserExistenceErrors:      "ENABLED",
			EnableTokenRevocation:           true,
			RefreshTokenRotation:            true,
			RetryGracePeriodSeconds:         10,
			ReadAttributes:                  []string{"email", "custom:tenant"},
			WriteAttributes:                 []string{"email"},
			CallbackURLs:                    []string{"https://app.example.com/cb"},
			LogoutURLs:                      []string{"https://app.example.com/bye"},
			DefaultRedirectURI:              "https://app.example.com/cb",
			AllowedOAuthFlows:               []string{"code"},
			AllowedOAuthScopes:              []string{"openid", "email"},
			AllowedOAuthFlowsUserPoolClient: true,
			SupportedIdentityProviders:      []string{"COGNITO"},
		},
	}
}

func userRecord(poolID, username string) storage.User {
	return storage.User{
		PoolID:            poolID,
		Username:          username,
		Sub:               "sub-" + poolID + "-" + username,
		Email:             username + "@example.com",
		Attributes:        map[string]string{"email": username + "@example.com", "custom:tenant": "acme"},
		PendingAttributes: map[string]string{"email": username + "@new.example.com"},
		Status:            storage.StatusConfirmed,
		Enabled:           true,
		SRPSalt:           []byte{0x00, 0x01, 0xfe},
		SRPVerifier:       []byte{0xff, 0x00, 0x42, 0x7f},
		PasswordExpiresAt: base.Add(72 * time.Hour),
		CreatedAt:         base,
		UpdatedAt:         base.Add(time.Second),
		MFA: storage.UserMFA{
			TOTPEnabled: true, EmailEnabled: true, Preferred: "SOFTWARE_TOKEN_MFA",
			TOTPSecret: "c2VhbGVk+/==", TOTPDeviceName: "Phone \u00e9", TOTPLastStep: 1 << 40,
		},
	}
}

func groupRecord(poolID, name string, precedence *int64) storage.Group {
	return storage.Group{
		PoolID:      poolID,
		Name:        name,
		Description: "Group " + name,
		Precedence:  precedence,
		RoleArn:     "arn:aws:iam::123456789012:role/" + name,
		CreatedAt:   base,
		UpdatedAt:   base.Add(time.Second),
	}
}

func codeRecord(poolID, username, purpose string) storage.Code {
	return storage.Code{
		PoolID:    poolID,
		Username:  username,
		Purpose:   purpose,
		Hash:      []byte("hash-" + purpose),
		Value:     username + "@example.com",
		CreatedAt: base,
		ExpiresAt: base.Add(time.Hour),
	}
}

func familyRecord(id, poolID, username string) storage.RefreshFamily {
	return storage.RefreshFamily{
		ID:        id,
		PoolID:    poolID,
		ClientID:  "client-1",
		Username:  username,
		EventID:   "event-" + id,
		Scope:     "openid email",
		OAuth:     true,
		AuthTime:  base.Add(-time.Minute),
		CreatedAt: base,
		ExpiresAt: base.Add(30 * 24 * time.Hour),
	}
}

func tokenRecord(hash string, f storage.RefreshFamily) storage.RefreshToken {
	return storage.RefreshToken{
		Hash:      []byte(hash),
		FamilyID:  f.ID,
		PoolID:    f.PoolID,
		ClientID:  f.ClientID,
		CreatedAt: base,
		ExpiresAt: f.ExpiresAt,
	}
}

func authCodeRecord(hash, poolID, username string) storage.AuthCode {
	return storage.AuthCode{
		Hash:          []byte(hash),
		PoolID:        poolID,
		ClientID:      "client-1",
		Username:      username,
		RedirectURI:   "https://app.example.com/cb?from=" + hash,
		Scope:         "openid email",
		Nonce:         "nonce-" + hash,
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		AuthTime:      base.Add(-time.Minute),
		CreatedAt:     base,
		ExpiresAt:     base.Add(5 * time.Minute),
	}
}

func loginSessionRecord(hash, poolID, username string) storage.LoginSession {
	return storage.LoginSession{
		Hash:      []byte(hash),
		PoolID:    poolID,
		Username:  username,
		AuthTime:  base.Add(-time.Minute),
		CreatedAt: base,
		ExpiresAt: base.Add(time.Hour),
	}
}

func keyRecord(id, poolID string, created time.Time) storage.SigningKey {
	return storage.SigningKey{
		ID:            id,
		PoolID:        poolID,
		Use:           "access",
		Algorithm:     "RS256",
		PrivateKeyDER: []byte("der-" + id),
		CreatedAt:     created,
	}
}

// fixture is one record of every kind, related to each other, as seed
// stores them.
type fixture struct {
	pool, otherPool storage.Pool
	client          storage.Client
	user            storage.User
	group           storage.Group
	code            storage.Code
	family          storage.RefreshFamily
	token           storage.RefreshToken
	key             storage.SigningKey
	authCode        storage.AuthCode
	session         storage.LoginSession
}

// seed stores a fixture: pools "pool-1" and "pool-2", and in pool-1
// client "client-1", user "alice" in group "admins", her signup code, a
// refresh family with one token, a signing key, an unredeemed
// authorization code and a login session.
func seed(t *testing.T, s storage.Storage) fixture {
	t.Helper()
	ctx := t.Context()
	f := fixture{
		pool:      poolRecord("pool-1"),
		otherPool: poolRecord("pool-2"),
		client:    clientRecord("pool-1", "client-1"),
		user:      userRecord("pool-1", "alice"),
		group:     groupRecord("pool-1", "admins", ptr[int64](1)),
		code:      codeRecord("pool-1", "alice", "signup"),
		family:    familyRecord("family-1", "pool-1", "alice"),
		key:       keyRecord("key-1", "pool-1", base),
		authCode:  authCodeRecord("auth-code-1", "pool-1", "alice"),
		session:   loginSessionRecord("session-1", "pool-1", "alice"),
	}
	f.token = tokenRecord("token-1", f.family)
	must(t, s.CreatePool(ctx, f.pool))
	must(t, s.CreatePool(ctx, f.otherPool))
	must(t, s.CreateClient(ctx, f.client))
	must(t, s.CreateUser(ctx, f.user))
	must(t, s.CreateGroup(ctx, f.group))
	must(t, s.AddUserToGroup(ctx, "pool-1", "alice", "admins"))
	must(t, s.PutCode(ctx, f.code))
	must(t, s.CreateRefreshFamily(ctx, f.family))
	must(t, s.CreateRefreshToken(ctx, f.token))
	must(t, s.CreateSigningKey(ctx, f.key))
	must(t, s.CreateAuthCode(ctx, f.authCode))
	must(t, s.CreateLoginSession(ctx, f.session))
	return f
}
