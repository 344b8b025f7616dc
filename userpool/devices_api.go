package userpool

import "regexp"

// Device tracking's shapes (cognito-idp 2016-04-18) and the model's
// constraints on them.

// NewDeviceMetadata names the device a sign-in was made on, when the
// pool tracks devices: the client confirms it with ConfirmDevice.
type NewDeviceMetadata struct {
	DeviceKey      string `json:"DeviceKey"`
	DeviceGroupKey string `json:"DeviceGroupKey"`
}

// DeviceConfigurationType is a pool's device tracking setting.
type DeviceConfigurationType struct {
	ChallengeRequiredOnNewDevice     bool `json:"ChallengeRequiredOnNewDevice"`
	DeviceOnlyRememberedOnUserPrompt bool `json:"DeviceOnlyRememberedOnUserPrompt"`
}

// DeviceSecretVerifierConfig is the SRP salt and verifier of a device's
// secret, each base64.
type DeviceSecretVerifierConfig struct {
	PasswordVerifier string `json:"PasswordVerifier"`
	Salt             string `json:"Salt"`
}

// ConfirmDeviceInput is ConfirmDevice's request.
type ConfirmDeviceInput struct {
	AccessToken                string                      `json:"AccessToken"`
	DeviceKey                  string                      `json:"DeviceKey"`
	DeviceSecretVerifierConfig *DeviceSecretVerifierConfig `json:"DeviceSecretVerifierConfig"`
	DeviceName                 string                      `json:"DeviceName"`
}

// ConfirmDeviceOutput is ConfirmDevice's response: whether the user must
// still be asked to remember the device (UpdateDeviceStatus).
type ConfirmDeviceOutput struct {
	UserConfirmationNecessary bool `json:"UserConfirmationNecessary"`
}

// DeviceInput names one of the token's user's devices (GetDevice,
// ForgetDevice).
type DeviceInput struct {
	AccessToken string `json:"AccessToken"`
	DeviceKey   string `json:"DeviceKey"`
}

// UpdateDeviceStatusInput is UpdateDeviceStatus's request.
type UpdateDeviceStatusInput struct {
	AccessToken            string `json:"AccessToken"`
	DeviceKey              string `json:"DeviceKey"`
	DeviceRememberedStatus string `json:"DeviceRememberedStatus"`
}

// ListDevicesInput is ListDevices' request.
type ListDevicesInput struct {
	AccessToken     string `json:"AccessToken"`
	Limit           int    `json:"Limit"`
	PaginationToken string `json:"PaginationToken"`
}

// AdminDeviceInput names a user's device (AdminGetDevice,
// AdminForgetDevice).
type AdminDeviceInput struct {
	UserPoolId string `json:"UserPoolId"`
	Username   string `json:"Username"`
	DeviceKey  string `json:"DeviceKey"`
}

// AdminUpdateDeviceStatusInput is AdminUpdateDeviceStatus's request.
type AdminUpdateDeviceStatusInput struct {
	UserPoolId             string `json:"UserPoolId"`
	Username               string `json:"Username"`
	DeviceKey              string `json:"DeviceKey"`
	DeviceRememberedStatus string `json:"DeviceRememberedStatus"`
}

// AdminListDevicesInput is AdminListDevices' request.
type AdminListDevicesInput struct {
	UserPoolId      string `json:"UserPoolId"`
	Username        string `json:"Username"`
	Limit           int    `json:"Limit"`
	PaginationToken string `json:"PaginationToken"`
}

// DeviceType describes a device.
type DeviceType struct {
	DeviceKey                   string          `json:"DeviceKey"`
	DeviceAttributes            []AttributeType `json:"DeviceAttributes"`
	DeviceCreateDate            Epoch           `json:"DeviceCreateDate"`
	DeviceLastModifiedDate      Epoch           `json:"DeviceLastModifiedDate"`
	DeviceLastAuthenticatedDate Epoch           `json:"DeviceLastAuthenticatedDate"`
}

// GetDeviceOutput is the response of GetDevice and AdminGetDevice.
type GetDeviceOutput struct {
	Device DeviceType `json:"Device"`
}

// ListDevicesOutput is the response of ListDevices and AdminListDevices.
type ListDevicesOutput struct {
	Devices         []DeviceType `json:"Devices"`
	PaginationToken string       `json:"PaginationToken,omitempty"`
}

// Device statuses (DeviceRememberedStatusType).
const (
	deviceRemembered    = "remembered"
	deviceNotRemembered = "not_remembered"
)

var (
	deviceKeyLength   = span{1, 55}
	deviceNameLength  = span{1, 1024}
	deviceQueryLimit  = span{0, 60}
	deviceStatuses    = enum{deviceRemembered, deviceNotRemembered}
	deviceKeyPattern  = regexp.MustCompile(`^[\w-]+_[0-9a-f-]+$`)
	devicePatternRule = `Member must satisfy regular expression pattern: [\w-]+_[0-9a-f-]+`
)

// deviceKey checks a DeviceKey member against the model.
func (v *violations) deviceKey(key string) {
	v.required("deviceKey", key)
	v.length("deviceKey", key, deviceKeyLength)
	if key != "" && !deviceKeyPattern.MatchString(key) {
		v.fail(key, "deviceKey", devicePatternRule)
	}
}

func (in ConfirmDeviceInput) validate() error {
	var v violations
	v.deviceKey(in.DeviceKey)
	v.length("deviceName", in.DeviceName, deviceNameLength)
	return v.err()
}

func (in UpdateDeviceStatusInput) validate() error {
	var v violations
	v.deviceKey(in.DeviceKey)
	v.oneOf("deviceRememberedStatus", in.DeviceRememberedStatus, deviceStatuses)
	return v.err()
}

func (in AdminUpdateDeviceStatusInput) validate() error {
	var v violations
	v.deviceKey(in.DeviceKey)
	v.oneOf("deviceRememberedStatus", in.DeviceRememberedStatus, deviceStatuses)
	return v.err()
}

func validDeviceKey(key string) error {
	var v violations
	v.deviceKey(key)
	return v.err()
}

func validDeviceLimit(limit int) error {
	var v violations
	v.number("limit", int64(limit), deviceQueryLimit)
	return v.err()
}
