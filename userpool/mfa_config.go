package userpool

// The pool's MFA configuration: SetUserPoolMfaConfig and
// GetUserPoolMfaConfig, and the MfaConfiguration of CreateUserPool.

import (
	"context"
	"errors"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// Pool MFA modes (MfaConfiguration).
const (
	mfaOff      = "OFF"
	mfaOn       = "ON"
	mfaOptional = "OPTIONAL"
)

// The MFA factors, by the challenge that asks for each.
const (
	factorSMS   = "SMS_MFA"
	factorTOTP  = "SOFTWARE_TOKEN_MFA"
	factorEmail = "EMAIL_OTP"
)

// SmsMfaConfigType is Cognito's SMS MFA configuration; its presence turns
// SMS MFA on. Messages go through the server's SMS sender, not SNS.
type SmsMfaConfigType struct {
	SmsAuthenticationMessage string          `json:"SmsAuthenticationMessage,omitempty"`
	SmsConfiguration         *map[string]any `json:"SmsConfiguration,omitempty"`
}

// SoftwareTokenMfaConfigType turns TOTP MFA on or off.
type SoftwareTokenMfaConfigType struct {
	Enabled bool `json:"Enabled"`
}

// EmailMfaConfigType is Cognito's email MFA configuration; its presence
// turns email MFA on.
type EmailMfaConfigType struct {
	Message string `json:"Message,omitempty"`
	Subject string `json:"Subject,omitempty"`
}

// WebAuthnConfigurationType is the pool's passkey relying party.
type WebAuthnConfigurationType struct {
	RelyingPartyId   string `json:"RelyingPartyId,omitempty"`
	UserVerification string `json:"UserVerification,omitempty"`
}

// SetUserPoolMfaConfigInput is SetUserPoolMfaConfig's request.
type SetUserPoolMfaConfigInput struct {
	UserPoolId                    string                      `json:"UserPoolId"`
	MfaConfiguration              string                      `json:"MfaConfiguration,omitempty"`
	SmsMfaConfiguration           *SmsMfaConfigType           `json:"SmsMfaConfiguration,omitempty"`
	SoftwareTokenMfaConfiguration *SoftwareTokenMfaConfigType `json:"SoftwareTokenMfaConfiguration,omitempty"`
	EmailMfaConfiguration         *EmailMfaConfigType         `json:"EmailMfaConfiguration,omitempty"`
	WebAuthnConfiguration         *WebAuthnConfigurationType  `json:"WebAuthnConfiguration,omitempty"`
}

// UserPoolMfaConfigOutput is the response of SetUserPoolMfaConfig and
// GetUserPoolMfaConfig.
type UserPoolMfaConfigOutput struct {
	MfaConfiguration              string                      `json:"MfaConfiguration"`
	SmsMfaConfiguration           *SmsMfaConfigType           `json:"SmsMfaConfiguration,omitempty"`
	SoftwareTokenMfaConfiguration *SoftwareTokenMfaConfigType `json:"SoftwareTokenMfaConfiguration,omitempty"`
	EmailMfaConfiguration         *EmailMfaConfigType         `json:"EmailMfaConfiguration,omitempty"`
	WebAuthnConfiguration         *WebAuthnConfigurationType  `json:"WebAuthnConfiguration,omitempty"`
}

// errNoFactor refuses MFA turned on with no factor to use.
var errNoFactor = invalidParam("At least one MFA factor (SmsMfaConfiguration, SoftwareTokenMfaConfiguration or EmailMfaConfiguration) must be enabled when MfaConfiguration is ON or OPTIONAL.")

func validMFAMode(m string) bool { return m == mfaOff || m == mfaOn || m == mfaOptional }

// SetUserPoolMfaConfig replaces the pool's MFA factors, as Cognito does:
// a factor whose configuration is left out is turned off. A left-out
// MfaConfiguration or WebAuthnConfiguration keeps the pool's.
func (s *Service) SetUserPoolMfaConfig(ctx context.Context, in SetUserPoolMfaConfigInput) (UserPoolMfaConfigOutput, error) {
	if in.MfaConfiguration != "" && !validMFAMode(in.MfaConfiguration) {
		return UserPoolMfaConfigOutput{}, invalidParam("1 validation error detected: Value '%.32s' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]", in.MfaConfiguration)
	}
	if w := in.WebAuthnConfiguration; w != nil {
		if n := len(w.RelyingPartyId); n > 127 {
			return UserPoolMfaConfigOutput{}, invalidParam("1 validation error detected: Value at 'webAuthnConfiguration.relyingPartyId' failed to satisfy constraint: Member must have length less than or equal to 127")
		}
		if v := w.UserVerification; v != "" && v != "required" && v != "preferred" {
			return UserPoolMfaConfigOutput{}, invalidParam("1 validation error detected: Value '%.32s' at 'webAuthnConfiguration.userVerification' failed to satisfy constraint: Member must satisfy enum value set: [required, preferred]", v)
		}
	}
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return UserPoolMfaConfigOutput{}, err
	}
	var updated storage.Pool
	err = s.store.UpdatePool(ctx, p.ID, func(p storage.Pool) (storage.Pool, error) {
		set := &p.Settings
		if in.MfaConfiguration != "" {
			set.MFAConfiguration = in.MfaConfiguration
		}
		set.SMSMFAEnabled = in.SmsMfaConfiguration != nil
		set.SoftwareTokenMFAEnabled = in.SoftwareTokenMfaConfiguration != nil && in.SoftwareTokenMfaConfiguration.Enabled
		set.EmailMFAEnabled = in.EmailMfaConfiguration != nil
		if set.MFAConfiguration != mfaOff && set.MFAConfiguration != "" && !set.SMSMFAEnabled && !set.SoftwareTokenMFAEnabled && !set.EmailMFAEnabled {
			return p, errNoFactor
		}
		if w := in.WebAuthnConfiguration; w != nil {
			set.WebAuthnRelyingPartyID, set.WebAuthnUserVerification = w.RelyingPartyId, w.UserVerification
		}
		p.UpdatedAt = s.now()
		updated = p
		return p, nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return UserPoolMfaConfigOutput{}, errorf(ErrResourceNotFound, "User pool %s does not exist.", p.ID)
	case err != nil:
		return UserPoolMfaConfigOutput{}, internal("set pool mfa config", err)
	}
	s.poolCache.put(p.ID, updated, s.now(), time.Time{})
	return mfaConfigOf(updated), nil
}

// GetUserPoolMfaConfig describes the pool's MFA configuration.
func (s *Service) GetUserPoolMfaConfig(ctx context.Context, in UserPoolIDInput) (UserPoolMfaConfigOutput, error) {
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return UserPoolMfaConfigOutput{}, err
	}
	return mfaConfigOf(p), nil
}

func mfaConfigOf(p storage.Pool) UserPoolMfaConfigOutput {
	set := p.Settings
	out := UserPoolMfaConfigOutput{
		MfaConfiguration:              poolMFAMode(p),
		SoftwareTokenMfaConfiguration: &SoftwareTokenMfaConfigType{Enabled: set.SoftwareTokenMFAEnabled},
	}
	if set.SMSMFAEnabled {
		out.SmsMfaConfiguration = &SmsMfaConfigType{}
	}
	if set.EmailMFAEnabled {
		out.EmailMfaConfiguration = &EmailMfaConfigType{}
	}
	if set.WebAuthnRelyingPartyID != "" || set.WebAuthnUserVerification != "" {
		out.WebAuthnConfiguration = &WebAuthnConfigurationType{RelyingPartyId: set.WebAuthnRelyingPartyID, UserVerification: set.WebAuthnUserVerification}
	}
	return out
}

// poolMFAMode is the pool's MfaConfiguration, OFF when unset.
func poolMFAMode(p storage.Pool) string {
	if m := p.Settings.MFAConfiguration; m != "" {
		return m
	}
	return mfaOff
}

// poolFactors are the factors the pool offers, in Cognito's order.
func poolFactors(p storage.Pool) []string {
	var out []string
	if p.Settings.SMSMFAEnabled {
		out = append(out, factorSMS)
	}
	if p.Settings.SoftwareTokenMFAEnabled {
		out = append(out, factorTOTP)
	}
	if p.Settings.EmailMFAEnabled {
		out = append(out, factorEmail)
	}
	return out
}

// applyPoolMFA sets CreateUserPool's MfaConfiguration and EnabledMfas
// (CloudFormation's name for the factors; Cognito's CreateUserPool has
// none, so a pool created ON or OPTIONAL without them offers TOTP).
func applyPoolMFA(set *storage.PoolSettings, mode string, factors []string) error {
	if mode == "" {
		mode = mfaOff
	}
	if !validMFAMode(mode) {
		return invalidParam("1 validation error detected: Value '%.32s' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]", mode)
	}
	set.MFAConfiguration = mode
	for _, f := range factors {
		switch f {
		case factorSMS:
			set.SMSMFAEnabled = true
		case factorTOTP:
			set.SoftwareTokenMFAEnabled = true
		case factorEmail:
			set.EmailMFAEnabled = true
		default:
			return invalidParam("EnabledMfas: %.32q is not one of SMS_MFA, SOFTWARE_TOKEN_MFA, EMAIL_OTP", f)
		}
	}
	if mode != mfaOff && len(factors) == 0 {
		set.SoftwareTokenMFAEnabled = true
	}
	return nil
}
