package userpool

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// The request and response shapes below are Cognito's data model
// (cognito-idp 2016-04-18): the operations take and return them as they
// are, so any transport that speaks Cognito's JSON encodes them directly.
// Only the members Cognate acts on are declared; unknown members are
// ignored, as AWS services do.

// Epoch is a timestamp sent as epoch seconds, the encoding AWS JSON
// protocols use (Amplify multiplies such values by 1000).
type Epoch time.Time

// MarshalJSON writes seconds with millisecond precision.
func (e Epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return strconv.AppendFloat(nil, float64(t.UnixMilli())/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds.
func (e *Epoch) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	sec, frac := math.Modf(f)
	*e = Epoch(time.Unix(int64(sec), int64(frac*1e9)).UTC())
	return nil
}

// AttributeType is one user attribute.
type AttributeType struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// CodeDeliveryDetails says where a code went.
type CodeDeliveryDetails struct {
	Destination    string `json:"Destination,omitempty"`
	DeliveryMedium string `json:"DeliveryMedium,omitempty"`
	AttributeName  string `json:"AttributeName,omitempty"`
}

// AuthenticationResult holds issued tokens.
type AuthenticationResult struct {
	AccessToken  string `json:"AccessToken,omitempty"`
	ExpiresIn    int64  `json:"ExpiresIn,omitempty"`
	TokenType    string `json:"TokenType,omitempty"`
	RefreshToken string `json:"RefreshToken,omitempty"`
	IdToken      string `json:"IdToken,omitempty"`
	// NewDeviceMetadata names the new device of a sign-in in a pool that
	// tracks devices.
	NewDeviceMetadata *NewDeviceMetadata `json:"NewDeviceMetadata,omitempty"`
}

// AuthOutput is the answer of InitiateAuth and RespondToAuthChallenge:
// either a challenge or tokens.
type AuthOutput struct {
	ChallengeName        string                `json:"ChallengeName,omitempty"`
	Session              string                `json:"Session,omitempty"`
	ChallengeParameters  map[string]string     `json:"ChallengeParameters,omitempty"`
	AuthenticationResult *AuthenticationResult `json:"AuthenticationResult,omitempty"`
	// AvailableChallenges are the first factors SELECT_CHALLENGE offers.
	AvailableChallenges []string `json:"AvailableChallenges,omitempty"`

	// signedIn is the user a managed-login step signed in (no tokens:
	// the hosted flow goes on to an authorization code).
	signedIn string
}

// Empty is the output of operations that return nothing ({} on the wire).
type Empty struct{}

// SignUpInput is SignUp's request.
type SignUpInput struct {
	ClientId       string            `json:"ClientId"`
	SecretHash     string            `json:"SecretHash"`
	Username       string            `json:"Username"`
	Password       string            `json:"Password"`
	UserAttributes []AttributeType   `json:"UserAttributes"`
	ValidationData []AttributeType   `json:"ValidationData"`
	ClientMetadata map[string]string `json:"ClientMetadata"`
}

// SignUpOutput is SignUp's response.
type SignUpOutput struct {
	UserConfirmed       bool                 `json:"UserConfirmed"`
	UserSub             string               `json:"UserSub"`
	CodeDeliveryDetails *CodeDeliveryDetails `json:"CodeDeliveryDetails,omitempty"`
	// Session lets the new user sign in with USER_AUTH once confirmed.
	Session string `json:"Session,omitempty"`
}

// ConfirmSignUpOutput is ConfirmSignUp's response: a Session that signs
// the confirmed user in with USER_AUTH.
type ConfirmSignUpOutput struct {
	Session string `json:"Session,omitempty"`
}

// ConfirmSignUpInput is ConfirmSignUp's request.
type ConfirmSignUpInput struct {
	ClientId         string            `json:"ClientId"`
	SecretHash       string            `json:"SecretHash"`
	Username         string            `json:"Username"`
	ConfirmationCode string            `json:"ConfirmationCode"`
	ClientMetadata   map[string]string `json:"ClientMetadata"`
}

// ResendConfirmationCodeInput is ResendConfirmationCode's request.
type ResendConfirmationCodeInput struct {
	ClientId       string            `json:"ClientId"`
	SecretHash     string            `json:"SecretHash"`
	Username       string            `json:"Username"`
	ClientMetadata map[string]string `json:"ClientMetadata"`
}

// CodeDeliveryOutput is the response of operations that send one code.
type CodeDeliveryOutput struct {
	CodeDeliveryDetails *CodeDeliveryDetails `json:"CodeDeliveryDetails,omitempty"`
}

// InitiateAuthInput is InitiateAuth's request.
type InitiateAuthInput struct {
	AuthFlow       string            `json:"AuthFlow"`
	AuthParameters map[string]string `json:"AuthParameters"`
	ClientId       string            `json:"ClientId"`
	// Session, with USER_AUTH, is a sign-up's Session (autoSignIn).
	Session        string            `json:"Session"`
	ClientMetadata map[string]string `json:"ClientMetadata"`
}

// RespondToAuthChallengeInput is RespondToAuthChallenge's request.
type RespondToAuthChallengeInput struct {
	ClientId           string            `json:"ClientId"`
	ChallengeName      string            `json:"ChallengeName"`
	Session            string            `json:"Session"`
	ChallengeResponses map[string]string `json:"ChallengeResponses"`
	ClientMetadata     map[string]string `json:"ClientMetadata"`
}

// GetTokensFromRefreshTokenInput is GetTokensFromRefreshToken's request.
type GetTokensFromRefreshTokenInput struct {
	RefreshToken string `json:"RefreshToken"`
	ClientId     string `json:"ClientId"`
	ClientSecret string `json:"ClientSecret"`
	DeviceKey    string `json:"DeviceKey"`
}

// TokensOutput carries only tokens.
type TokensOutput struct {
	AuthenticationResult *AuthenticationResult `json:"AuthenticationResult,omitempty"`
}

// RevokeTokenInput is RevokeToken's request.
type RevokeTokenInput struct {
	Token        string `json:"Token"`
	ClientId     string `json:"ClientId"`
	ClientSecret string `json:"ClientSecret"`
}

// AccessTokenInput is the request of operations authorised by an access
// token alone (GlobalSignOut, GetUser, DeleteUser).
type AccessTokenInput struct {
	AccessToken string `json:"AccessToken"`
}

// GetUserOutput is GetUser's response.
type GetUserOutput struct {
	Username       string          `json:"Username"`
	UserAttributes []AttributeType `json:"UserAttributes"`
	MFAOptions     []MFAOptionType `json:"MFAOptions,omitempty"`
	// PreferredMfaSetting and UserMFASettingList are the user's MFA
	// factors (SetUserMFAPreference).
	PreferredMfaSetting string   `json:"PreferredMfaSetting,omitempty"`
	UserMFASettingList  []string `json:"UserMFASettingList,omitempty"`
}

// UpdateUserAttributesInput is UpdateUserAttributes' request.
type UpdateUserAttributesInput struct {
	AccessToken    string            `json:"AccessToken"`
	UserAttributes []AttributeType   `json:"UserAttributes"`
	ClientMetadata map[string]string `json:"ClientMetadata"`
}

// UpdateUserAttributesOutput is UpdateUserAttributes' response.
type UpdateUserAttributesOutput struct {
	CodeDeliveryDetailsList []CodeDeliveryDetails `json:"CodeDeliveryDetailsList,omitempty"`
}

// DeleteUserAttributesInput is DeleteUserAttributes' request.
type DeleteUserAttributesInput struct {
	AccessToken        string   `json:"AccessToken"`
	UserAttributeNames []string `json:"UserAttributeNames"`
}

// GetUserAttributeVerificationCodeInput is its operation's request.
type GetUserAttributeVerificationCodeInput struct {
	AccessToken    string            `json:"AccessToken"`
	AttributeName  string            `json:"AttributeName"`
	ClientMetadata map[string]string `json:"ClientMetadata"`
}

// VerifyUserAttributeInput is VerifyUserAttribute's request.
type VerifyUserAttributeInput struct {
	AccessToken   string `json:"AccessToken"`
	AttributeName string `json:"AttributeName"`
	Code          string `json:"Code"`
}

// ChangePasswordInput is ChangePassword's request.
type ChangePasswordInput struct {
	AccessToken      string `json:"AccessToken"`
	PreviousPassword string `json:"PreviousPassword"`
	ProposedPassword string `json:"ProposedPassword"`
}

// ForgotPasswordInput is ForgotPassword's request.
type ForgotPasswordInput struct {
	ClientId       string            `json:"ClientId"`
	SecretHash     string            `json:"SecretHash"`
	Username       string            `json:"Username"`
	ClientMetadata map[string]string `json:"ClientMetadata"`
}

// ConfirmForgotPasswordInput is ConfirmForgotPassword's request.
type ConfirmForgotPasswordInput struct {
	ClientId         string `json:"ClientId"`
	SecretHash       string `json:"SecretHash"`
	Username         string `json:"Username"`
	ConfirmationCode string `json:"ConfirmationCode"`
	Password         string `json:"Password"`
}
