package saml

import (
	"fmt"
	"strings"
)

// The ProviderDetails keys of a SAML provider, as Cognito names them.
const (
	DetailMetadataURL             = "MetadataURL"
	DetailMetadataFile            = "MetadataFile"
	DetailIDPSignout              = "IDPSignout"
	DetailEncryptedResponses      = "EncryptedResponses"
	DetailRequestSigningAlgorithm = "RequestSigningAlgorithm"
	DetailIDPInit                 = "IDPInit"
	// Read-only keys Cognito adds when describing a provider.
	DetailSSORedirectBindingURI       = "SSORedirectBindingURI"
	DetailSLORedirectBindingURI       = "SLORedirectBindingURI"
	DetailActiveEncryptionCertificate = "ActiveEncryptionCertificate"
)

// maxMetadataFile bounds MetadataFile, as Cognito does (131072 characters).
const maxMetadataFile = 131072

// details are ProviderDetails read and checked.
type details struct {
	metadataURL  string
	metadataFile string
	signOut      bool
	encrypted    bool
	signRequests bool
	idpInit      bool
}

// parseDetails checks a SAML provider's ProviderDetails: exactly one of
// MetadataURL and MetadataFile, booleans spelled "true" or "false", and
// RequestSigningAlgorithm "rsa-sha256" when present. Keys Cognito adds
// itself when describing a provider are ignored; any other is refused.
func parseDetails(m map[string]string) (details, error) {
	var d details
	var err error
	for k, v := range m {
		switch k {
		case DetailMetadataURL:
			d.metadataURL = strings.TrimSpace(v)
		case DetailMetadataFile:
			d.metadataFile = v
		case DetailIDPSignout:
			d.signOut, err = parseBool(k, v)
		case DetailEncryptedResponses:
			d.encrypted, err = parseBool(k, v)
		case DetailIDPInit:
			d.idpInit, err = parseBool(k, v)
		case DetailRequestSigningAlgorithm:
			if v != "rsa-sha256" && v != "" {
				err = fmt.Errorf("%w: RequestSigningAlgorithm must be rsa-sha256", ErrInvalidDetails)
			}
			d.signRequests = v != ""
		case DetailSSORedirectBindingURI, DetailSLORedirectBindingURI, DetailActiveEncryptionCertificate:
		default:
			err = fmt.Errorf("%w: unknown key %s", ErrInvalidDetails, k)
		}
		if err != nil {
			return details{}, err
		}
	}
	switch {
	case (d.metadataURL == "") == (d.metadataFile == ""):
		return details{}, fmt.Errorf("%w: exactly one of MetadataURL and MetadataFile is required", ErrInvalidDetails)
	case len(d.metadataFile) > maxMetadataFile:
		return details{}, fmt.Errorf("%w: MetadataFile is longer than %d characters", ErrInvalidDetails, maxMetadataFile)
	}
	return d, nil
}

func parseBool(key, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false", "":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s must be true or false", ErrInvalidDetails, key)
}
