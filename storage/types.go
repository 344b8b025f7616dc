package storage

import (
	"encoding/json"
	"time"
)

// Pool is a user pool. Settings are stored as one document: backends
// persist it as JSON, so adding a setting needs no migration.
type Pool struct {
	ID        string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	Settings  PoolSettings
}

// PoolSettings mirrors the parts of Cognito's UserPoolType that Cognate
// honours.
type PoolSettings struct {
	// UsernameAttributes lists attributes users sign in with instead of a
	// username ("email"); when set, the username is the user's sub.
	UsernameAttributes     []string          `json:"username_attributes,omitempty"`
	AutoVerifiedAttributes []string          `json:"auto_verified_attributes,omitempty"`
	PasswordPolicy         PasswordPolicy    `json:"password_policy"`
	Schema                 []SchemaAttribute `json:"schema,omitempty"`
	MFAConfiguration       string            `json:"mfa_configuration,omitempty"`
	DeletionProtection     string            `json:"deletion_protection,omitempty"`
	// AttributesRequireVerificationBeforeUpdate keeps the old value of
	// these attributes until the new one is verified.
	AttributesRequireVerificationBeforeUpdate []string `json:"attributes_require_verification_before_update,omitempty"`
	AllowAdminCreateUserOnly                  bool     `json:"allow_admin_create_user_only,omitempty"`
	Domain                                    string   `json:"domain,omitempty"`

	// MFA factors the pool offers (SetUserPoolMfaConfig), next to
	// MFAConfiguration.
	SMSMFAEnabled           bool `json:"sms_mfa_enabled,omitempty"`
	SoftwareTokenMFAEnabled bool `json:"software_token_mfa_enabled,omitempty"`
	EmailMFAEnabled         bool `json:"email_mfa_enabled,omitempty"`
	// WebAuthnRelyingPartyID and WebAuthnUserVerification ("required" or
	// "preferred") are the pool's WebAuthnConfiguration for passkeys.
	WebAuthnRelyingPartyID   string `json:"webauthn_relying_party_id,omitempty"`
	WebAuthnUserVerification string `json:"webauthn_user_verification,omitempty"`
	// AllowedFirstAuthFactors is the sign-in policy of choice-based
	// sign-in (USER_AUTH): PASSWORD, EMAIL_OTP, SMS_OTP, WEB_AUTHN.
	AllowedFirstAuthFactors []string `json:"allowed_first_auth_factors,omitempty"`
	// DeviceConfiguration is Cognito's remembered-devices setting.
	DeviceConfiguration *DeviceConfiguration `json:"device_configuration,omitempty"`
	// LambdaConfig holds the pool's triggers; each "ARN" is the URL of
	// the webhook that receives the trigger's event.
	LambdaConfig *LambdaConfig `json:"lambda_config,omitempty"`
}

// DeviceConfiguration is Cognito's DeviceConfigurationType.
type DeviceConfiguration struct {
	ChallengeRequiredOnNewDevice     bool `json:"challenge_required_on_new_device,omitempty"`
	DeviceOnlyRememberedOnUserPrompt bool `json:"device_only_remembered_on_user_prompt,omitempty"`
}

// LambdaConfig is Cognito's LambdaConfigType, with webhook URLs where
// Cognito has Lambda ARNs.
type LambdaConfig struct {
	PreSignUp                   string `json:"pre_sign_up,omitempty"`
	CustomMessage               string `json:"custom_message,omitempty"`
	PostConfirmation            string `json:"post_confirmation,omitempty"`
	PreAuthentication           string `json:"pre_authentication,omitempty"`
	PostAuthentication          string `json:"post_authentication,omitempty"`
	DefineAuthChallenge         string `json:"define_auth_challenge,omitempty"`
	CreateAuthChallenge         string `json:"create_auth_challenge,omitempty"`
	VerifyAuthChallengeResponse string `json:"verify_auth_challenge_response,omitempty"`
	PreTokenGeneration          string `json:"pre_token_generation,omitempty"`
	// PreTokenGenerationVersion is PreTokenGenerationConfig's
	// LambdaVersion: V1_0, V2_0 or V3_0.
	PreTokenGenerationVersion string `json:"pre_token_generation_version,omitempty"`
	UserMigration             string `json:"user_migration,omitempty"`
}

// PasswordPolicy is Cognito's password policy.
type PasswordPolicy struct {
	MinimumLength                 int  `json:"minimum_length"`
	RequireUppercase              bool `json:"require_uppercase"`
	RequireLowercase              bool `json:"require_lowercase"`
	RequireNumbers                bool `json:"require_numbers"`
	RequireSymbols                bool `json:"require_symbols"`
	TemporaryPasswordValidityDays int  `json:"temporary_password_validity_days"`
}

// SchemaAttribute declares a custom attribute ("custom:" + Name) or
// overrides a standard one.
type SchemaAttribute struct {
	Name              string `json:"name"`
	AttributeDataType string `json:"attribute_data_type"`
	Mutable           bool   `json:"mutable"`
	Required          bool   `json:"required"`
	MinLength         int    `json:"min_length,omitempty"`
	MaxLength         int    `json:"max_length,omitempty"`
}

// Client is an app client of a pool. A client with a Secret is
// confidential: callers must prove it with SECRET_HASH or client auth.
type Client struct {
	ClientID  string
	PoolID    string
	Name      string
	Secret    string
	CreatedAt time.Time
	UpdatedAt time.Time
	Settings  ClientSettings
}

// ClientSettings mirrors the parts of Cognito's UserPoolClientType that
// Cognate honours. Validities keep the caller's units so that Describe
// returns what was set.
type ClientSettings struct {
	ExplicitAuthFlows          []string           `json:"explicit_auth_flows,omitempty"`
	AccessTokenValidity        int64              `json:"access_token_validity,omitempty"`
	IDTokenValidity            int64              `json:"id_token_validity,omitempty"`
	RefreshTokenValidity       int64              `json:"refresh_token_validity,omitempty"`
	TokenValidityUnits         TokenValidityUnits `json:"token_validity_units"`
	AuthSessionValidity        int64              `json:"auth_session_validity,omitempty"`
	PreventUserExistenceErrors string             `json:"prevent_user_existence_errors,omitempty"`
	EnableTokenRevocation      bool               `json:"enable_token_revocation"`
	RefreshTokenRotation       bool               `json:"refresh_token_rotation,omitempty"`
	RetryGracePeriodSeconds    int64              `json:"retry_grace_period_seconds,omitempty"`
	ReadAttributes             []string           `json:"read_attributes,omitempty"`
	WriteAttributes            []string           `json:"write_attributes,omitempty"`

	CallbackURLs                    []string `json:"callback_urls,omitempty"`
	LogoutURLs                      []string `json:"logout_urls,omitempty"`
	DefaultRedirectURI              string   `json:"default_redirect_uri,omitempty"`
	AllowedOAuthFlows               []string `json:"allowed_oauth_flows,omitempty"`
	AllowedOAuthScopes              []string `json:"allowed_oauth_scopes,omitempty"`
	AllowedOAuthFlowsUserPoolClient bool     `json:"allowed_oauth_flows_user_pool_client,omitempty"`
	SupportedIdentityProviders      []string `json:"supported_identity_providers,omitempty"`
}

// TokenValidityUnits holds "seconds", "minutes", "hours" or "days" per
// token; empty means Cognito's default unit for that token.
type TokenValidityUnits struct {
	AccessToken  string `json:"access_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// User statuses, as Cognito names them.
const (
	StatusUnconfirmed         = "UNCONFIRMED"
	StatusConfirmed           = "CONFIRMED"
	StatusForceChangePassword = "FORCE_CHANGE_PASSWORD"
	StatusResetRequired       = "RESET_REQUIRED"
)

// User is a pool's user. Passwords exist only as an SRP salt and
// verifier.
type User struct {
	PoolID   string
	Username string
	Sub      string
	// Email is the lower-cased email alias used for sign-in lookups; empty
	// when the user has no email. Unique within the pool.
	Email      string
	Attributes map[string]string
	// PendingAttributes hold new values that wait for verification
	// (AttributesRequireVerificationBeforeUpdate).
	PendingAttributes map[string]string
	Status            string
	Enabled           bool
	SRPSalt           []byte
	SRPVerifier       []byte
	// PasswordExpiresAt is set for temporary passwords.
	PasswordExpiresAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// MFA is the user's multi-factor state, stored as one document (like
	// PoolSettings), so adding to it needs no migration.
	MFA UserMFA
}

// UserMFA is a user's MFA factors (SetUserMFAPreference) and the
// authenticator secret behind SOFTWARE_TOKEN_MFA.
type UserMFA struct {
	SMSEnabled   bool `json:"sms_enabled,omitempty"`
	TOTPEnabled  bool `json:"totp_enabled,omitempty"`
	EmailEnabled bool `json:"email_enabled,omitempty"`
	// Preferred is the preferred factor's challenge name (SMS_MFA,
	// SOFTWARE_TOKEN_MFA, EMAIL_OTP), or empty.
	Preferred string `json:"preferred,omitempty"`
	// TOTPSecret is the verified authenticator secret, sealed with a
	// server key (never stored in the clear); empty when none.
	TOTPSecret string `json:"totp_secret,omitempty"`
	// TOTPPending is a secret associated (AssociateSoftwareToken) but not
	// yet verified, sealed the same way.
	TOTPPending string `json:"totp_pending,omitempty"`
	// TOTPDeviceName is VerifySoftwareToken's FriendlyDeviceName.
	TOTPDeviceName string `json:"totp_device_name,omitempty"`
	// TOTPLastStep is the time step of the last code accepted, so that no
	// code (nor an older one) is accepted twice.
	TOTPLastStep uint64 `json:"totp_last_step,omitempty"`
}

// WebAuthnCredential is a user's passkey: the public key an
// authenticator registered, and what a sign-in checks against it.
type WebAuthnCredential struct {
	PoolID string
	// ID is the raw credential id the authenticator chose.
	ID       []byte
	Username string
	// PublicKey is the credential public key as the authenticator sent it
	// (a COSE key).
	PublicKey []byte
	// SignCount is the authenticator's signature counter at the last
	// ceremony; 0 when the authenticator keeps none.
	SignCount      int64
	RelyingPartyID string
	FriendlyName   string
	// Attachment is "platform" or "cross-platform" (empty if unknown);
	// Transports what the browser reported (usb, nfc, ble, hybrid, internal).
	Attachment string
	Transports []string
	AAGUID     []byte
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// Group is a pool's group.
type Group struct {
	PoolID      string
	Name        string
	Description string
	// Precedence orders groups in tokens; nil means none.
	Precedence *int64
	RoleArn    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Code is a one-time verification code. Only its hash is stored.
type Code struct {
	PoolID   string
	Username string
	// Purpose is "signup", "forgot_password" or "verify:<attribute>".
	Purpose string
	Hash    []byte
	// Value is what the code confirms (e.g. the email address being
	// verified), so a code cannot confirm a value it was not sent to.
	Value     string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when the code was used; zero while it is not. A used code
	// is kept until it expires, so that submitting it again can be told
	// from a wrong guess.
	UsedAt time.Time
}

// Message is a code (or temporary password) on its way to a user: queued
// in the same transaction that stores the code, then handed to a mail
// relay by a dispatcher, or kept as the development outbox.
type Message struct {
	ID          int64
	PoolID      string
	Username    string
	Destination string
	Kind        string
	// Code is the plaintext to deliver; it is emptied once a relay has
	// accepted the message.
	Code      string
	CreatedAt time.Time
	// DoneAt is when the message left the queue: a relay accepted it (or,
	// with no relay, it reached the outbox), or delivery was given up,
	// LastError saying why. Zero while it waits.
	DoneAt time.Time
	// Attempts counts delivery attempts; NextAttemptAt is when a
	// dispatcher may claim the message next, and LastError why the last
	// attempt failed.
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	// Subject and Body are the CustomMessage trigger's text, with the
	// code and username still as placeholders ({####}, {username});
	// empty means the default text.
	Subject string
	Body    string
}

// AttemptCount counts failed attempts at a secret a caller must prove under
// one key of a pool: a user's password, or what callers guessed for a
// name that has no user, so that unknown names answer exactly as real
// users do. Records live until ExpiresAt.
type AttemptCount struct {
	PoolID string
	Key    string
	// Failures counts consecutive failures.
	Failures int
	// LockedUntil is when the next attempt is allowed again.
	LockedUntil time.Time
	// LastFailure is when the last failure was counted.
	LastFailure time.Time
	ExpiresAt   time.Time
}

// RefreshFamily is one sign-in: every refresh token rotated from it, and
// every access token issued under it (their origin_jti is the family ID),
// lives and dies with it.
type RefreshFamily struct {
	ID       string
	PoolID   string
	ClientID string
	Username string
	EventID  string
	Scope    string
	// OAuth marks a sign-in made through the OAuth endpoints: its id
	// tokens follow the granted scopes (none without openid, scoped
	// claims, at_hash) instead of the JSON API's rules.
	OAuth     bool
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
	// RevokedAt is zero while the family is live.
	RevokedAt time.Time
}

// Device is a device a user signed in on and confirmed (ConfirmDevice):
// the SRP verifier of the device's secret, which the device proves on
// later sign-ins, and what Cognito's DeviceType reports.
type Device struct {
	PoolID   string
	Key      string
	Username string
	// GroupKey takes the pool name's place in the device's SRP hashes.
	GroupKey string
	Name     string
	// Remembered is Cognito's device_status "remembered" (false:
	// "not_remembered").
	Remembered bool
	// Salt and Verifier are the device's SRP salt and verifier, as
	// ConfirmDevice delivered them.
	Salt     []byte
	Verifier []byte
	LastIP   string
	// CreatedAt is when the device was confirmed, UpdatedAt its last
	// change, LastAuthenticatedAt its last sign-in.
	CreatedAt           time.Time
	UpdatedAt           time.Time
	LastAuthenticatedAt time.Time
}

// RefreshToken is one refresh token of a family, stored by the SHA-256 of
// its value.
type RefreshToken struct {
	Hash      []byte
	FamilyID  string
	PoolID    string
	ClientID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	// RotatedAt is when a successor was issued; zero for the current one.
	RotatedAt time.Time
}

// SigningKey is an RSA private key a pool signs tokens with.
type SigningKey struct {
	ID     string // the JWT kid
	PoolID string
	// Use is "access" or "id": Cognito signs each kind with its own key.
	Use           string
	Algorithm     string
	PrivateKeyDER []byte // PKCS #8
	CreatedAt     time.Time
}

// AuthCode is an OAuth 2.0 authorization code, stored by the SHA-256 of
// its value. It remembers what the authorization granted, and once
// redeemed, which sign-in (refresh family) the redemption started, so a
// replay can revoke it.
type AuthCode struct {
	Hash        []byte
	PoolID      string
	ClientID    string
	Username    string
	RedirectURI string
	Scope       string
	Nonce       string
	// CodeChallenge is the PKCE S256 challenge; empty when none was sent.
	CodeChallenge string
	AuthTime      time.Time
	CreatedAt     time.Time
	ExpiresAt     time.Time
	// RedeemedAt is zero until the code is exchanged; FamilyID is then
	// the sign-in it started.
	RedeemedAt time.Time
	FamilyID   string
}

// LoginSession is a browser signed in to a pool's hosted pages, stored by
// the SHA-256 of its cookie value. Within its life a new authorization
// needs no password.
type LoginSession struct {
	Hash      []byte
	PoolID    string
	Username  string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIKey is an events API key (sent as x-api-key), stored by the SHA-256
// of its value. The ID names it in listings without revealing it.
type APIKey struct {
	ID          string
	Hash        []byte
	Description string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// StatusExternalProvider is the status of a user a federated sign-in
// created: it has no password.
const StatusExternalProvider = "EXTERNAL_PROVIDER"

// IdentityProvider is a pool's external identity provider (Cognito's
// IdentityProviderType). Secrets in Details are stored sealed by the
// domain.
type IdentityProvider struct {
	PoolID           string
	Name             string
	Type             string
	Details          map[string]string
	AttributeMapping map[string]string
	// Identifiers are the IdpIdentifiers (email domains, names) that
	// route a sign-in to the provider; unique within the pool, which the
	// domain enforces.
	Identifiers []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// FederatedLink ties a provider's user (provider name and subject) to the
// pool user that signs in as them: the federated user a first sign-in
// created, or an existing user an administrator linked.
type FederatedLink struct {
	PoolID       string
	ProviderName string
	Subject      string
	Username     string
	CreatedAt    time.Time
}

// Import job statuses, as Cognito names them (UserImportJobStatusType).
const (
	ImportCreated    = "Created"
	ImportPending    = "Pending"
	ImportInProgress = "InProgress"
	ImportStopping   = "Stopping"
	ImportExpired    = "Expired"
	ImportStopped    = "Stopped"
	ImportFailed     = "Failed"
	ImportSucceeded  = "Succeeded"
)

// ImportJob is a user import job (CreateUserImportJob): the CSV uploaded
// to its pre-signed URL is imported in the background, row by row.
type ImportJob struct {
	PoolID                string
	JobID                 string
	JobName               string
	CloudWatchLogsRoleArn string
	Status                string
	CreatedAt             time.Time
	StartedAt             time.Time
	CompletedAt           time.Time
	// UploadExpiresAt is when the job's pre-signed upload URL stops
	// working.
	UploadExpiresAt time.Time
	// FileSize is the size of the uploaded CSV; 0 before an upload.
	FileSize int64
	// Rows is how many of the file's data rows are done: their users
	// were committed together with this count, so a job that resumes
	// starts after them.
	Rows              int64
	Imported          int64
	Skipped           int64
	Failed            int64
	CompletionMessage string
	// LeaseUntil is how long the node running the job holds it; once it
	// has passed, any node may take the job over.
	LeaseUntil time.Time
}

// ImportRowError is why one row of an import job's file did not import.
type ImportRowError struct {
	PoolID string
	JobID  string
	// Row is the row's number in the file, the header being row 1.
	Row      int64
	Username string
	Message  string
}

// EncodeUserMFA is the stored form of m, the backends' one encoding: "{}"
// for a user without MFA (most of them), without reflection.
func EncodeUserMFA(m UserMFA) (string, error) {
	if m == (UserMFA{}) {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// DecodeUserMFA reads what EncodeUserMFA wrote.
func DecodeUserMFA(s string) (UserMFA, error) {
	var m UserMFA
	if s == "{}" || s == "" {
		return m, nil
	}
	err := json.Unmarshal([]byte(s), &m)
	return m, err
}
