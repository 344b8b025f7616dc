package userpool

// Request and response shapes of the SigV4-signed administrative
// operations (Cognito's data model, see api.go).

// PasswordPolicyType is Cognito's password policy shape.
type PasswordPolicyType struct {
	MinimumLength                 *int  `json:"MinimumLength,omitempty"`
	RequireUppercase              *bool `json:"RequireUppercase,omitempty"`
	RequireLowercase              *bool `json:"RequireLowercase,omitempty"`
	RequireNumbers                *bool `json:"RequireNumbers,omitempty"`
	RequireSymbols                *bool `json:"RequireSymbols,omitempty"`
	TemporaryPasswordValidityDays *int  `json:"TemporaryPasswordValidityDays,omitempty"`
}

// PoliciesType wraps the password policy and the sign-in policy.
type PoliciesType struct {
	PasswordPolicy *PasswordPolicyType `json:"PasswordPolicy,omitempty"`
	SignInPolicy   *SignInPolicyType   `json:"SignInPolicy,omitempty"`
}

// SchemaAttributeType declares an attribute.
type SchemaAttributeType struct {
	Name                       string                      `json:"Name"`
	AttributeDataType          string                      `json:"AttributeDataType,omitempty"`
	DeveloperOnlyAttribute     bool                        `json:"DeveloperOnlyAttribute,omitempty"`
	Mutable                    *bool                       `json:"Mutable,omitempty"`
	Required                   bool                        `json:"Required,omitempty"`
	StringAttributeConstraints *StringAttributeConstraints `json:"StringAttributeConstraints,omitempty"`
}

// StringAttributeConstraints bounds a string attribute's length.
type StringAttributeConstraints struct {
	MinLength string `json:"MinLength,omitempty"`
	MaxLength string `json:"MaxLength,omitempty"`
}

// VerificationMessageTemplateType is accepted for compatibility.
type VerificationMessageTemplateType struct {
	DefaultEmailOption string `json:"DefaultEmailOption,omitempty"`
}

// CreateUserPoolInput is CreateUserPool's request.
type CreateUserPoolInput struct {
	PoolName               string                `json:"PoolName"`
	Policies               *PoliciesType         `json:"Policies,omitempty"`
	UsernameAttributes     []string              `json:"UsernameAttributes,omitempty"`
	AliasAttributes        []string              `json:"AliasAttributes,omitempty"`
	AutoVerifiedAttributes []string              `json:"AutoVerifiedAttributes,omitempty"`
	Schema                 []SchemaAttributeType `json:"Schema,omitempty"`
	MfaConfiguration       string                `json:"MfaConfiguration,omitempty"`
	// EnabledMfas is CloudFormation's list of the factors a pool offers
	// (SMS_MFA, SOFTWARE_TOKEN_MFA, EMAIL_OTP), here for the config file.
	EnabledMfas                 []string                     `json:"EnabledMfas,omitempty"`
	DeletionProtection          string                       `json:"DeletionProtection,omitempty"`
	AdminCreateUserConfig       *AdminCreateUserConfig       `json:"AdminCreateUserConfig,omitempty"`
	UserAttributeUpdateSettings *UserAttributeUpdateSettings `json:"UserAttributeUpdateSettings,omitempty"`
	DeviceConfiguration         *DeviceConfigurationType     `json:"DeviceConfiguration,omitempty"`
	LambdaConfig                *LambdaConfigType            `json:"LambdaConfig,omitempty"`
}

// AdminCreateUserConfig holds AllowAdminCreateUserOnly.
type AdminCreateUserConfig struct {
	AllowAdminCreateUserOnly bool `json:"AllowAdminCreateUserOnly"`
}

// UserAttributeUpdateSettings lists attributes whose new value waits for
// verification.
type UserAttributeUpdateSettings struct {
	AttributesRequireVerificationBeforeUpdate []string `json:"AttributesRequireVerificationBeforeUpdate"`
}

// UserPoolType describes a pool.
type UserPoolType struct {
	Id                          string                       `json:"Id"`
	Name                        string                       `json:"Name"`
	Arn                         string                       `json:"Arn"`
	Policies                    PoliciesType                 `json:"Policies"`
	UsernameAttributes          []string                     `json:"UsernameAttributes,omitempty"`
	AutoVerifiedAttributes      []string                     `json:"AutoVerifiedAttributes,omitempty"`
	SchemaAttributes            []SchemaAttributeType        `json:"SchemaAttributes,omitempty"`
	MfaConfiguration            string                       `json:"MfaConfiguration"`
	DeletionProtection          string                       `json:"DeletionProtection,omitempty"`
	AdminCreateUserConfig       AdminCreateUserConfig        `json:"AdminCreateUserConfig"`
	UserAttributeUpdateSettings *UserAttributeUpdateSettings `json:"UserAttributeUpdateSettings,omitempty"`
	DeviceConfiguration         *DeviceConfigurationType     `json:"DeviceConfiguration,omitempty"`
	CreationDate                Epoch                        `json:"CreationDate"`
	LastModifiedDate            Epoch                        `json:"LastModifiedDate"`
	Domain                      string                       `json:"Domain,omitempty"`
	// UserPoolTier is always ESSENTIALS, the plan Cognito gives a new
	// pool: Cognate has no plans, so it reports the default.
	UserPoolTier string `json:"UserPoolTier"`
	// LambdaConfig is the pool's triggers ({} for none, as Cognito).
	LambdaConfig LambdaConfigType `json:"LambdaConfig"`
}

// UserPoolOutput wraps a pool.
type UserPoolOutput struct {
	UserPool UserPoolType `json:"UserPool"`
}

// UserPoolIDInput names a pool.
type UserPoolIDInput struct {
	UserPoolId string `json:"UserPoolId"`
}

// ListUserPoolsInput is ListUserPools' request.
type ListUserPoolsInput struct {
	MaxResults int    `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
}

// UserPoolDescriptionType is a ListUserPools entry.
type UserPoolDescriptionType struct {
	Id               string `json:"Id"`
	Name             string `json:"Name"`
	CreationDate     Epoch  `json:"CreationDate"`
	LastModifiedDate Epoch  `json:"LastModifiedDate"`
}

// ListUserPoolsOutput is ListUserPools' response.
type ListUserPoolsOutput struct {
	UserPools []UserPoolDescriptionType `json:"UserPools"`
	NextToken string                    `json:"NextToken,omitempty"`
}

// TokenValidityUnitsType gives the unit of each validity.
type TokenValidityUnitsType struct {
	AccessToken  string `json:"AccessToken,omitempty"`
	IdToken      string `json:"IdToken,omitempty"`
	RefreshToken string `json:"RefreshToken,omitempty"`
}

// RefreshTokenRotationType configures rotation.
type RefreshTokenRotationType struct {
	Feature                 string `json:"Feature"`
	RetryGracePeriodSeconds int64  `json:"RetryGracePeriodSeconds"`
}

// ClientSettingsInput is what CreateUserPoolClient and
// UpdateUserPoolClient share.
type ClientSettingsInput struct {
	UserPoolId                      string                    `json:"UserPoolId"`
	ClientName                      string                    `json:"ClientName"`
	RefreshTokenValidity            int64                     `json:"RefreshTokenValidity,omitempty"`
	AccessTokenValidity             int64                     `json:"AccessTokenValidity,omitempty"`
	IdTokenValidity                 int64                     `json:"IdTokenValidity,omitempty"`
	TokenValidityUnits              *TokenValidityUnitsType   `json:"TokenValidityUnits,omitempty"`
	ReadAttributes                  []string                  `json:"ReadAttributes,omitempty"`
	WriteAttributes                 []string                  `json:"WriteAttributes,omitempty"`
	ExplicitAuthFlows               []string                  `json:"ExplicitAuthFlows,omitempty"`
	SupportedIdentityProviders      []string                  `json:"SupportedIdentityProviders,omitempty"`
	CallbackURLs                    []string                  `json:"CallbackURLs,omitempty"`
	LogoutURLs                      []string                  `json:"LogoutURLs,omitempty"`
	DefaultRedirectURI              string                    `json:"DefaultRedirectURI,omitempty"`
	AllowedOAuthFlows               []string                  `json:"AllowedOAuthFlows,omitempty"`
	AllowedOAuthScopes              []string                  `json:"AllowedOAuthScopes,omitempty"`
	AllowedOAuthFlowsUserPoolClient bool                      `json:"AllowedOAuthFlowsUserPoolClient,omitempty"`
	PreventUserExistenceErrors      string                    `json:"PreventUserExistenceErrors,omitempty"`
	EnableTokenRevocation           *bool                     `json:"EnableTokenRevocation,omitempty"`
	AuthSessionValidity             int64                     `json:"AuthSessionValidity,omitempty"`
	RefreshTokenRotation            *RefreshTokenRotationType `json:"RefreshTokenRotation,omitempty"`
}

// CreateUserPoolClientInput is CreateUserPoolClient's request.
type CreateUserPoolClientInput struct {
	ClientSettingsInput
	GenerateSecret bool `json:"GenerateSecret"`
}

// UpdateUserPoolClientInput is UpdateUserPoolClient's request.
type UpdateUserPoolClientInput struct {
	ClientSettingsInput
	ClientId string `json:"ClientId"`
}

// DescribeUserPoolClientInput is DescribeUserPoolClient's request.
type DescribeUserPoolClientInput struct {
	UserPoolId string `json:"UserPoolId"`
	ClientId   string `json:"ClientId"`
}

// UserPoolClientType describes an app client.
type UserPoolClientType struct {
	UserPoolId                      string                    `json:"UserPoolId"`
	ClientName                      string                    `json:"ClientName"`
	ClientId                        string                    `json:"ClientId"`
	ClientSecret                    string                    `json:"ClientSecret,omitempty"`
	LastModifiedDate                Epoch                     `json:"LastModifiedDate"`
	CreationDate                    Epoch                     `json:"CreationDate"`
	RefreshTokenValidity            int64                     `json:"RefreshTokenValidity"`
	AccessTokenValidity             int64                     `json:"AccessTokenValidity"`
	IdTokenValidity                 int64                     `json:"IdTokenValidity"`
	TokenValidityUnits              TokenValidityUnitsType    `json:"TokenValidityUnits"`
	ReadAttributes                  []string                  `json:"ReadAttributes,omitempty"`
	WriteAttributes                 []string                  `json:"WriteAttributes,omitempty"`
	ExplicitAuthFlows               []string                  `json:"ExplicitAuthFlows,omitempty"`
	SupportedIdentityProviders      []string                  `json:"SupportedIdentityProviders,omitempty"`
	CallbackURLs                    []string                  `json:"CallbackURLs,omitempty"`
	LogoutURLs                      []string                  `json:"LogoutURLs,omitempty"`
	DefaultRedirectURI              string                    `json:"DefaultRedirectURI,omitempty"`
	AllowedOAuthFlows               []string                  `json:"AllowedOAuthFlows,omitempty"`
	AllowedOAuthScopes              []string                  `json:"AllowedOAuthScopes,omitempty"`
	AllowedOAuthFlowsUserPoolClient bool                      `json:"AllowedOAuthFlowsUserPoolClient"`
	PreventUserExistenceErrors      string                    `json:"PreventUserExistenceErrors"`
	EnableTokenRevocation           bool                      `json:"EnableTokenRevocation"`
	AuthSessionValidity             int64                     `json:"AuthSessionValidity"`
	RefreshTokenRotation            *RefreshTokenRotationType `json:"RefreshTokenRotation,omitempty"`
	// EnablePropagateAdditionalUserContextData is always false, Cognito's
	// default: user context data feeds threat protection, which Cognate
	// does not have.
	EnablePropagateAdditionalUserContextData bool `json:"EnablePropagateAdditionalUserContextData"`
}

// UserPoolClientOutput wraps a client.
type UserPoolClientOutput struct {
	UserPoolClient UserPoolClientType `json:"UserPoolClient"`
}

// AdminCreateUserInput is AdminCreateUser's request.
type AdminCreateUserInput struct {
	UserPoolId             string            `json:"UserPoolId"`
	Username               string            `json:"Username"`
	UserAttributes         []AttributeType   `json:"UserAttributes"`
	TemporaryPassword      string            `json:"TemporaryPassword"`
	MessageAction          string            `json:"MessageAction"`
	DesiredDeliveryMediums []string          `json:"DesiredDeliveryMediums"`
	ValidationData         []AttributeType   `json:"ValidationData"`
	ClientMetadata         map[string]string `json:"ClientMetadata"`
}

// UserType describes a user in admin responses.
type UserType struct {
	Username             string          `json:"Username"`
	Attributes           []AttributeType `json:"Attributes"`
	UserCreateDate       Epoch           `json:"UserCreateDate"`
	UserLastModifiedDate Epoch           `json:"UserLastModifiedDate"`
	Enabled              bool            `json:"Enabled"`
	UserStatus           string          `json:"UserStatus"`
	MFAOptions           []MFAOptionType `json:"MFAOptions,omitempty"`
}

// AdminCreateUserOutput is AdminCreateUser's response.
type AdminCreateUserOutput struct {
	User UserType `json:"User"`
}

// AdminUserInput names a user of a pool.
type AdminUserInput struct {
	UserPoolId string `json:"UserPoolId"`
	Username   string `json:"Username"`
}

// AdminGetUserOutput is AdminGetUser's response.
type AdminGetUserOutput struct {
	Username             string          `json:"Username"`
	UserAttributes       []AttributeType `json:"UserAttributes"`
	UserCreateDate       Epoch           `json:"UserCreateDate"`
	UserLastModifiedDate Epoch           `json:"UserLastModifiedDate"`
	Enabled              bool            `json:"Enabled"`
	UserStatus           string          `json:"UserStatus"`
	MFAOptions           []MFAOptionType `json:"MFAOptions,omitempty"`
	PreferredMfaSetting  string          `json:"PreferredMfaSetting,omitempty"`
	UserMFASettingList   []string        `json:"UserMFASettingList,omitempty"`
}

// AdminSetUserPasswordInput is AdminSetUserPassword's request.
type AdminSetUserPasswordInput struct {
	UserPoolId string `json:"UserPoolId"`
	Username   string `json:"Username"`
	Password   string `json:"Password"`
	Permanent  bool   `json:"Permanent"`
}

// AdminGroupMembershipInput is the request of AdminAddUserToGroup and
// AdminRemoveUserFromGroup.
type AdminGroupMembershipInput struct {
	UserPoolId string `json:"UserPoolId"`
	Username   string `json:"Username"`
	GroupName  string `json:"GroupName"`
}

// CreateGroupInput is CreateGroup's request.
type CreateGroupInput struct {
	UserPoolId  string `json:"UserPoolId"`
	GroupName   string `json:"GroupName"`
	Description string `json:"Description"`
	RoleArn     string `json:"RoleArn"`
	Precedence  *int64 `json:"Precedence"`
}

// GroupType describes a group.
type GroupType struct {
	GroupName        string `json:"GroupName"`
	UserPoolId       string `json:"UserPoolId"`
	Description      string `json:"Description,omitempty"`
	RoleArn          string `json:"RoleArn,omitempty"`
	Precedence       *int64 `json:"Precedence,omitempty"`
	LastModifiedDate Epoch  `json:"LastModifiedDate"`
	CreationDate     Epoch  `json:"CreationDate"`
}

// GroupOutput wraps a group.
type GroupOutput struct {
	Group GroupType `json:"Group"`
}

// ListGroupsInput is ListGroups' request.
type ListGroupsInput struct {
	UserPoolId string `json:"UserPoolId"`
	Limit      int    `json:"Limit"`
	NextToken  string `json:"NextToken"`
}

// AdminListGroupsForUserInput is AdminListGroupsForUser's request.
type AdminListGroupsForUserInput struct {
	UserPoolId string `json:"UserPoolId"`
	Username   string `json:"Username"`
	Limit      int    `json:"Limit"`
	NextToken  string `json:"NextToken"`
}

// GroupsOutput lists groups.
type GroupsOutput struct {
	Groups    []GroupType `json:"Groups"`
	NextToken string      `json:"NextToken,omitempty"`
}

// ListUsersInput is ListUsers' request.
type ListUsersInput struct {
	UserPoolId      string   `json:"UserPoolId"`
	AttributesToGet []string `json:"AttributesToGet"`
	Limit           int      `json:"Limit"`
	PaginationToken string   `json:"PaginationToken"`
	Filter          string   `json:"Filter"`
}

// ListUsersOutput is ListUsers' response.
type ListUsersOutput struct {
	Users           []UserType `json:"Users"`
	PaginationToken string     `json:"PaginationToken,omitempty"`
}
