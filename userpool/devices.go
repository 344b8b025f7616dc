package userpool

// Device tracking: the devices a user confirmed (ConfirmDevice), their
// status and listing, for the user (access token) and for administrators.
// How a device signs in is in auth_device.go.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"github.com/google/uuid"

	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage"
)

// errDeviceNotFound is Cognito's answer for a device key that is not one
// of the user's devices. Amplify matches its message: on it, a sign-in
// forgets the device it sent and starts again.
var errDeviceNotFound = errorf(ErrResourceNotFound, "Device does not exist.")

// maxDeviceSalt bounds a device's SRP salt: Amplify sends 16 bytes (17
// with PAD's leading zero).
const maxDeviceSalt = 64

type clientAddrKey struct{}

// WithClientAddr returns ctx carrying the address of the request's
// client, which device tracking records as a device's last_ip_used.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

func clientAddr(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddrKey{}).(string)
	return addr
}

// tracksDevices reports whether the pool tracks devices: a sign-in on a
// new device then gets NewDeviceMetadata.
func tracksDevices(p storage.Pool) bool {
	return p.Settings.DeviceConfiguration != nil
}

// newDeviceMetadata names a new device: a key "<region>_<uuid>" and its
// group key. The group key is derived from the device key with a server
// secret rather than stored, so that nothing is written for a device
// until the client confirms it.
func (s *Service) newDeviceMetadata(p storage.Pool) *NewDeviceMetadata {
	key := regionOf(p.ID) + "_" + uuid.NewString()
	return &NewDeviceMetadata{DeviceKey: key, DeviceGroupKey: s.deviceGroupKey(p.ID, key)}
}

// deviceGroupKey is the group key given with a device key: "-" and nine
// base64url characters, the shape of Cognito's.
func (s *Service) deviceGroupKey(poolID, deviceKey string) string {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte(poolID + "\x00" + deviceKey))
	return "-" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:9]
}

// deviceType is a device as Cognito describes it.
func deviceType(d storage.Device) DeviceType {
	status := deviceNotRemembered
	if d.Remembered {
		status = deviceRemembered
	}
	attrs := []AttributeType{
		{Name: "device_status", Value: "valid"},
		{Name: "device_name", Value: d.Name},
		{Name: "dev:device_remembered_status", Value: status},
	}
	if d.LastIP != "" {
		attrs = append(attrs, AttributeType{Name: "last_ip_used", Value: d.LastIP})
	}
	return DeviceType{
		DeviceKey: d.Key, DeviceAttributes: attrs, DeviceCreateDate: Epoch(d.CreatedAt),
		DeviceLastModifiedDate: Epoch(d.UpdatedAt), DeviceLastAuthenticatedDate: Epoch(d.LastAuthenticatedAt),
	}
}

// userDevice returns the user's device with the given key; a device of
// another user is as unknown as one that never existed.
func (s *Service) userDevice(ctx context.Context, poolID, username, key string) (storage.Device, error) {
	d, err := s.store.GetDevice(ctx, poolID, key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return d, errDeviceNotFound
	case err != nil:
		return d, internal("get device", err)
	case d.Username != username:
		return storage.Device{}, errDeviceNotFound
	}
	return d, nil
}

// ConfirmDevice stores the device a sign-in was made on (the access
// token's device_key) with the SRP verifier of the device's secret. In a
// pool that remembers devices only when the user says so, the device
// starts not remembered and UserConfirmationNecessary is true.
func (s *Service) ConfirmDevice(ctx context.Context, in ConfirmDeviceInput) (ConfirmDeviceOutput, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return ConfirmDeviceOutput{}, err
	}
	if err := in.validate(); err != nil {
		return ConfirmDeviceOutput{}, err
	}
	dc := ts.pool.Settings.DeviceConfiguration
	// Only the device the token was issued on can be confirmed with it:
	// the key was handed to whoever signed in there, and to no one else.
	if dc == nil || ts.claims.DeviceKey == "" || !hmac.Equal([]byte(ts.claims.DeviceKey), []byte(in.DeviceKey)) {
		return ConfirmDeviceOutput{}, errDeviceNotFound
	}
	salt, verifier, err := deviceVerifier(in.DeviceSecretVerifierConfig)
	if err != nil {
		return ConfirmDeviceOutput{}, err
	}
	now := s.now()
	d := storage.Device{
		PoolID: ts.pool.ID, Key: in.DeviceKey, Username: ts.user.Username,
		GroupKey: s.deviceGroupKey(ts.pool.ID, in.DeviceKey), Name: in.DeviceName,
		Remembered: !dc.DeviceOnlyRememberedOnUserPrompt, Salt: salt, Verifier: verifier, LastIP: clientAddr(ctx),
		CreatedAt: now, UpdatedAt: now, LastAuthenticatedAt: now,
	}
	switch err := s.store.CreateDevice(ctx, d); {
	case errors.Is(err, storage.ErrAlreadyExists):
		return ConfirmDeviceOutput{}, invalidParam("Device %s has already been confirmed.", in.DeviceKey)
	case errors.Is(err, storage.ErrNotFound):
		return ConfirmDeviceOutput{}, errorf(ErrNotAuthorized, "Access Token has been revoked")
	case err != nil:
		return ConfirmDeviceOutput{}, internal("create device", err)
	}
	return ConfirmDeviceOutput{UserConfirmationNecessary: dc.DeviceOnlyRememberedOnUserPrompt}, nil
}

// deviceVerifier decodes and checks a DeviceSecretVerifierConfig: a salt
// and a verifier the server can use, never a value that would let anyone
// sign in (a zero verifier).
func deviceVerifier(c *DeviceSecretVerifierConfig) (salt, verifier []byte, err error) {
	if c == nil || c.Salt == "" || c.PasswordVerifier == "" {
		return nil, nil, invalidParam("DeviceSecretVerifierConfig with Salt and PasswordVerifier is required.")
	}
	salt, err = base64.StdEncoding.DecodeString(c.Salt)
	if err != nil || len(salt) == 0 || len(salt) > maxDeviceSalt {
		return nil, nil, invalidParam("DeviceSecretVerifierConfig.Salt must be base64 of 1 to %d bytes.", maxDeviceSalt)
	}
	verifier, err = base64.StdEncoding.DecodeString(c.PasswordVerifier)
	if err != nil || srp.CheckVerifier(verifier) != nil {
		return nil, nil, invalidParam("DeviceSecretVerifierConfig.PasswordVerifier is not a valid SRP verifier.")
	}
	return salt, verifier, nil
}

// UpdateDeviceStatus marks one of the token's user's devices remembered
// or not.
func (s *Service) UpdateDeviceStatus(ctx context.Context, in UpdateDeviceStatusInput) (Empty, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return Empty{}, err
	}
	if err := in.validate(); err != nil {
		return Empty{}, err
	}
	return Empty{}, s.setDeviceStatus(ctx, ts.pool.ID, ts.user.Username, in.DeviceKey, in.DeviceRememberedStatus)
}

// AdminUpdateDeviceStatus marks a user's device remembered or not.
func (s *Service) AdminUpdateDeviceStatus(ctx context.Context, in AdminUpdateDeviceStatusInput) (Empty, error) {
	if err := in.validate(); err != nil {
		return Empty{}, err
	}
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return Empty{}, err
	}
	return Empty{}, s.setDeviceStatus(ctx, p.ID, u.Username, in.DeviceKey, in.DeviceRememberedStatus)
}

// setDeviceStatus sets a device's status; no status leaves it as it is.
func (s *Service) setDeviceStatus(ctx context.Context, poolID, username, key, status string) error {
	err := s.store.UpdateDevice(ctx, poolID, key, func(d storage.Device) (storage.Device, error) {
		if d.Username != username {
			return d, errDeviceNotFound
		}
		if status != "" {
			d.Remembered = status == deviceRemembered
			d.UpdatedAt = s.now()
		}
		return d, nil
	})
	var e *Error
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return errDeviceNotFound
	case errors.As(err, &e):
		return err
	case err != nil:
		return internal("update device", err)
	}
	return nil
}

// GetDevice describes one of the token's user's devices.
func (s *Service) GetDevice(ctx context.Context, in DeviceInput) (GetDeviceOutput, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return GetDeviceOutput{}, err
	}
	if err := validDeviceKey(in.DeviceKey); err != nil {
		return GetDeviceOutput{}, err
	}
	d, err := s.userDevice(ctx, ts.pool.ID, ts.user.Username, in.DeviceKey)
	if err != nil {
		return GetDeviceOutput{}, err
	}
	return GetDeviceOutput{Device: deviceType(d)}, nil
}

// AdminGetDevice describes a user's device.
func (s *Service) AdminGetDevice(ctx context.Context, in AdminDeviceInput) (GetDeviceOutput, error) {
	if err := validDeviceKey(in.DeviceKey); err != nil {
		return GetDeviceOutput{}, err
	}
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return GetDeviceOutput{}, err
	}
	d, err := s.userDevice(ctx, p.ID, u.Username, in.DeviceKey)
	if err != nil {
		return GetDeviceOutput{}, err
	}
	return GetDeviceOutput{Device: deviceType(d)}, nil
}

// ForgetDevice deletes one of the token's user's devices: it no longer
// signs in, and its key is refused from then on.
func (s *Service) ForgetDevice(ctx context.Context, in DeviceInput) (Empty, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return Empty{}, err
	}
	if err := validDeviceKey(in.DeviceKey); err != nil {
		return Empty{}, err
	}
	return Empty{}, s.forgetDevice(ctx, ts.pool.ID, ts.user.Username, in.DeviceKey)
}

// AdminForgetDevice deletes a user's device.
func (s *Service) AdminForgetDevice(ctx context.Context, in AdminDeviceInput) (Empty, error) {
	if err := validDeviceKey(in.DeviceKey); err != nil {
		return Empty{}, err
	}
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return Empty{}, err
	}
	return Empty{}, s.forgetDevice(ctx, p.ID, u.Username, in.DeviceKey)
}

func (s *Service) forgetDevice(ctx context.Context, poolID, username, key string) error {
	if _, err := s.userDevice(ctx, poolID, username, key); err != nil {
		return err
	}
	// Between the check and the delete the device can only have been
	// deleted: a device never changes hands.
	switch err := s.store.DeleteDevice(ctx, poolID, key); {
	case errors.Is(err, storage.ErrNotFound):
		return errDeviceNotFound
	case err != nil:
		return internal("delete device", err)
	}
	return nil
}

// ListDevices lists the token's user's devices by key.
func (s *Service) ListDevices(ctx context.Context, in ListDevicesInput) (ListDevicesOutput, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return ListDevicesOutput{}, err
	}
	return s.listDevices(ctx, ts.pool.ID, ts.user.Username, in.Limit, in.PaginationToken)
}

// AdminListDevices lists a user's devices by key.
func (s *Service) AdminListDevices(ctx context.Context, in AdminListDevicesInput) (ListDevicesOutput, error) {
	if err := validDeviceLimit(in.Limit); err != nil {
		return ListDevicesOutput{}, err
	}
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return ListDevicesOutput{}, err
	}
	return s.listDevices(ctx, p.ID, u.Username, in.Limit, in.PaginationToken)
}

// listDevices returns a page of at most limit devices (60 when 0) after
// the key the pagination token names.
func (s *Service) listDevices(ctx context.Context, poolID, username string, limit int, token string) (ListDevicesOutput, error) {
	if err := validDeviceLimit(limit); err != nil {
		return ListDevicesOutput{}, err
	}
	if limit == 0 {
		limit = int(deviceQueryLimit.max)
	}
	after := ""
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || validDeviceKey(string(raw)) != nil {
			return ListDevicesOutput{}, invalidParam("Invalid pagination token.")
		}
		after = string(raw)
	}
	// One more than the page tells whether another page follows.
	ds, err := s.store.ListDevices(ctx, poolID, username, after, limit+1)
	if err != nil {
		return ListDevicesOutput{}, internal("list devices", err)
	}
	out := ListDevicesOutput{Devices: []DeviceType{}}
	for i, d := range ds {
		if i == limit {
			out.PaginationToken = base64.RawURLEncoding.EncodeToString([]byte(ds[i-1].Key))
			break
		}
		out.Devices = append(out.Devices, deviceType(d))
	}
	return out, nil
}
