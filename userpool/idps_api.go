package userpool

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/cognate-auth/cognate/federation"
)

// IdentityProviderType is Cognito's IdentityProviderType.
type IdentityProviderType struct {
	UserPoolId       string            `json:"UserPoolId"`
	ProviderName     string            `json:"ProviderName"`
	ProviderType     string            `json:"ProviderType"`
	ProviderDetails  map[string]string `json:"ProviderDetails"`
	AttributeMapping map[string]string `json:"AttributeMapping"`
	IdpIdentifiers   []string          `json:"IdpIdentifiers"`
	LastModifiedDate Epoch             `json:"LastModifiedDate"`
	CreationDate     Epoch             `json:"CreationDate"`
}

// IdentityProviderOutput is the answer of the operations that return one
// provider.
type IdentityProviderOutput struct {
	IdentityProvider IdentityProviderType `json:"IdentityProvider"`
}

// CreateIdentityProviderInput is CreateIdentityProvider's request.
type CreateIdentityProviderInput struct {
	UserPoolId       string            `json:"UserPoolId"`
	ProviderName     string            `json:"ProviderName"`
	ProviderType     string            `json:"ProviderType"`
	ProviderDetails  map[string]string `json:"ProviderDetails"`
	AttributeMapping map[string]string `json:"AttributeMapping"`
	IdpIdentifiers   []string          `json:"IdpIdentifiers"`
}

// UpdateIdentityProviderInput is UpdateIdentityProvider's request: the
// members given replace the provider's (details are merged key by key).
type UpdateIdentityProviderInput struct {
	UserPoolId       string            `json:"UserPoolId"`
	ProviderName     string            `json:"ProviderName"`
	ProviderDetails  map[string]string `json:"ProviderDetails"`
	AttributeMapping map[string]string `json:"AttributeMapping"`
	IdpIdentifiers   []string          `json:"IdpIdentifiers"`
}

// ProviderInput names one provider of a pool (Describe, Delete).
type ProviderInput struct {
	UserPoolId   string `json:"UserPoolId"`
	ProviderName string `json:"ProviderName"`
}

// GetIdentityProviderByIdentifierInput is GetIdentityProviderByIdentifier's
// request.
type GetIdentityProviderByIdentifierInput struct {
	UserPoolId    string `json:"UserPoolId"`
	IdpIdentifier string `json:"IdpIdentifier"`
}

// ListIdentityProvidersInput is ListIdentityProviders' request.
type ListIdentityProvidersInput struct {
	UserPoolId string  `json:"UserPoolId"`
	MaxResults *int    `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

// ProviderDescription is a ListIdentityProviders entry.
type ProviderDescription struct {
	ProviderName     string `json:"ProviderName"`
	ProviderType     string `json:"ProviderType"`
	LastModifiedDate Epoch  `json:"LastModifiedDate"`
	CreationDate     Epoch  `json:"CreationDate"`
}

// ListIdentityProvidersOutput is ListIdentityProviders' response.
type ListIdentityProvidersOutput struct {
	Providers []ProviderDescription `json:"Providers"`
	NextToken string                `json:"NextToken,omitempty"`
}

// ProviderUserIdentifierType names a user of a provider: ProviderName
// "Cognito" and the username for a pool's own user, else the provider's
// name and, with ProviderAttributeName Cognito_Subject, its subject.
type ProviderUserIdentifierType struct {
	ProviderName           string `json:"ProviderName"`
	ProviderAttributeName  string `json:"ProviderAttributeName"`
	ProviderAttributeValue string `json:"ProviderAttributeValue"`
}

// AdminLinkProviderForUserInput is AdminLinkProviderForUser's request.
type AdminLinkProviderForUserInput struct {
	UserPoolId      string                     `json:"UserPoolId"`
	DestinationUser ProviderUserIdentifierType `json:"DestinationUser"`
	SourceUser      ProviderUserIdentifierType `json:"SourceUser"`
}

// AdminDisableProviderForUserInput is AdminDisableProviderForUser's
// request.
type AdminDisableProviderForUserInput struct {
	UserPoolId string                     `json:"UserPoolId"`
	User       ProviderUserIdentifierType `json:"User"`
}

// The model's constraints of the identity-provider members.
var (
	providerTypes        = enum{federation.TypeSAML, federation.TypeFacebook, federation.TypeGoogle, federation.TypeLoginWithAmazon, federation.TypeSignInWithApple, federation.TypeOIDC}
	idpIdentifierLength  = span{1, 40}
	idpIdentifierCount   = span{0, 50}
	mappingKeyLength     = span{1, 32}
	providerQueryLimit   = span{1, 60}
	idpIdentifierRule    = `[\w\s+=.@-]+`
	idpIdentifierRE      = regexp.MustCompile(`^(?:` + idpIdentifierRule + `)$`)
	providerNameV2Rule   = `[^_\p{Z}][\p{L}\p{M}\p{S}\p{N}\p{P}][^_\p{Z}]+`
	providerNameV2RE     = regexp.MustCompile(`^(?:` + providerNameV2Rule + `)$`)
	providerNameRule     = `[\p{L}\p{M}\p{S}\p{N}\p{P}\p{Z}]+`
	providerNameRE       = regexp.MustCompile(`^(?:` + providerNameRule + `)$`)
	subjectAttributeName = "Cognito_Subject"
)

// socialNames are the names the social provider types must have.
var socialNames = map[string]string{
	federation.TypeGoogle: "Google", federation.TypeFacebook: "Facebook",
	federation.TypeLoginWithAmazon: "LoginWithAmazon", federation.TypeSignInWithApple: "SignInWithApple",
}

// requiredDetails are the ProviderDetails keys each type needs.
var requiredDetails = map[string][]string{
	federation.TypeOIDC:            {"client_id", "attributes_request_method", "oidc_issuer", "authorize_scopes"},
	federation.TypeGoogle:          {"client_id", "client_secret", "authorize_scopes"},
	federation.TypeFacebook:        {"client_id", "client_secret", "authorize_scopes"},
	federation.TypeLoginWithAmazon: {"client_id", "client_secret", "authorize_scopes"},
	federation.TypeSignInWithApple: {"client_id", "team_id", "key_id", "private_key", "authorize_scopes"},
}

// allowedDetails are the further keys each type takes: the endpoints a
// provider's discovery (or a social preset) would give, stated instead.
var (
	oauthEndpoints = []string{"authorize_url", "token_url", "attributes_url", "jwks_uri", "oidc_issuer", "attributes_url_add_attributes"}
	allowedDetails = map[string][]string{
		federation.TypeOIDC:            append([]string{"client_secret"}, oauthEndpoints...),
		federation.TypeGoogle:          oauthEndpoints,
		federation.TypeFacebook:        append([]string{"api_version"}, oauthEndpoints...),
		federation.TypeLoginWithAmazon: oauthEndpoints,
		federation.TypeSignInWithApple: oauthEndpoints,
		federation.TypeSAML:            {"MetadataURL", "MetadataFile", "IDPSignout", "IDPInit", "EncryptedResponses", "RequestSigningAlgorithm", "SSORedirectBindingURI", "SLORedirectBindingURI", "ActiveEncryptionCertificate"},
	}
)

func (in CreateIdentityProviderInput) validate() error {
	var v violations
	v.required("userPoolId", in.UserPoolId)
	v.required("providerName", in.ProviderName)
	v.required("providerType", in.ProviderType)
	if in.ProviderDetails == nil {
		v.required("providerDetails", "")
	}
	if in.ProviderName != "" {
		v.length("providerName", in.ProviderName, providerNameLength)
		if !providerNameV2RE.MatchString(in.ProviderName) {
			v.fail(in.ProviderName, "providerName", "Member must satisfy regular expression pattern: "+providerNameV2Rule)
		}
	}
	v.oneOf("providerType", in.ProviderType, providerTypes)
	checkMapping(&v, in.AttributeMapping)
	checkIdentifiers(&v, in.IdpIdentifiers)
	return v.err()
}

func (in UpdateIdentityProviderInput) validate() error {
	var v violations
	v.required("userPoolId", in.UserPoolId)
	v.required("providerName", in.ProviderName)
	checkProviderName(&v, "providerName", in.ProviderName)
	checkMapping(&v, in.AttributeMapping)
	checkIdentifiers(&v, in.IdpIdentifiers)
	return v.err()
}

func (in ProviderInput) validate() error {
	var v violations
	v.required("userPoolId", in.UserPoolId)
	v.required("providerName", in.ProviderName)
	checkProviderName(&v, "providerName", in.ProviderName)
	return v.err()
}

func (in GetIdentityProviderByIdentifierInput) validate() error {
	var v violations
	v.required("userPoolId", in.UserPoolId)
	v.required("idpIdentifier", in.IdpIdentifier)
	if in.IdpIdentifier != "" {
		checkIdentifiers(&v, []string{in.IdpIdentifier})
	}
	return v.err()
}

func (in ListIdentityProvidersInput) validate() error {
	var v violations
	v.required("userPoolId", in.UserPoolId)
	if in.MaxResults != nil {
		v.number("maxResults", int64(*in.MaxResults), providerQueryLimit)
	}
	if t := in.NextToken; t != nil && *t == "" {
		v.fail(*t, "nextToken", "Member must have length greater than or equal to 1")
	}
	return v.err()
}

func checkProviderName(v *violations, path, name string) {
	if name == "" {
		return
	}
	v.length(path, name, providerNameLength)
	if !providerNameRE.MatchString(name) {
		v.fail(name, path, "Member must satisfy regular expression pattern: "+providerNameRule)
	}
}

func checkMapping(v *violations, m map[string]string) {
	for k := range m {
		if n := utf8.RuneCountInString(k); int64(n) < mappingKeyLength.min || int64(n) > mappingKeyLength.max {
			v.fail(k, "attributeMapping", "Map keys must satisfy constraint: ["+lengthRule(n, mappingKeyLength)+"]")
			return
		}
	}
}

func checkIdentifiers(v *violations, ids []string) {
	count(v, "idpIdentifiers", ids, idpIdentifierCount)
	for _, id := range ids {
		rule := lengthRule(utf8.RuneCountInString(id), idpIdentifierLength)
		if rule == "" && !idpIdentifierRE.MatchString(id) {
			rule = "Member must satisfy regular expression pattern: " + idpIdentifierRule
		}
		if rule != "" {
			v.fail(ids, "idpIdentifiers", "Member must satisfy constraint: ["+rule+"]")
			return
		}
	}
}

// checkDetails applies each type's rules to a provider's details: the
// required keys, no unknown ones, the OIDC attribute request method, the
// SAML metadata given one way.
func checkDetails(typ string, d map[string]string) error {
	for _, k := range requiredDetails[typ] {
		if strings.TrimSpace(d[k]) == "" {
			return invalidParam("%s is required for provider type %s.", k, typ)
		}
	}
	for k := range d {
		if !contains(requiredDetails[typ], k) && !contains(allowedDetails[typ], k) {
			return invalidParam("%.64q is not a valid provider detail for provider type %s.", k, typ)
		}
	}
	switch typ {
	case federation.TypeOIDC:
		if m := d["attributes_request_method"]; m != "GET" && m != "POST" {
			return invalidParam("attributes_request_method must be GET or POST.")
		}
	case federation.TypeSAML:
		if (d["MetadataURL"] == "") == (d["MetadataFile"] == "") {
			return invalidParam("Exactly one of MetadataURL and MetadataFile is required for provider type SAML.")
		}
	}
	return nil
}

// Exceptions of the identity-provider operations.
var (
	ErrDuplicateProvider           = newErr("DuplicateProviderException", "A provider with the name already exists in this user pool.")
	ErrUnsupportedIdentityProvider = newErr("UnsupportedIdentityProviderException", "The identity provider is not supported.")
	ErrConcurrentModification      = newErr("ConcurrentModificationException", "The resource was changed by another request.")
)
