package userpool

// Device authentication: after the first factor, a client that sends the
// key of one of the user's confirmed devices proves it holds the device's
// secret (DEVICE_SRP_AUTH, then DEVICE_PASSWORD_VERIFIER), the same SRP
// exchange as USER_SRP_AUTH with the device group key in the pool name's
// place and the device key in the user's. Its tokens carry the device's
// key.

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage"
)

// Device challenges and their sealed states.
const (
	challengeDeviceSRP      = "DEVICE_SRP_AUTH"
	challengeDeviceVerifier = "DEVICE_PASSWORD_VERIFIER"

	sealDeviceAuth = "device-auth"
	sealDeviceSRP  = "device-srp"
)

// deviceSecret is the device's secret, guessed at by a device answer: a
// wrong one counts against the device key, never the user's password.
var deviceSecret = secret{"device/", errAttemptsExceeded, ErrNotAuthorized}

// deviceAuthState is the Session of DEVICE_SRP_AUTH: the user proved the
// first factor, and the device they named.
type deviceAuthState struct {
	Username string `json:"u"`
	Device   string `json:"d"`
}

// deviceSRPState is a device's SECRET_BLOCK: as srpState, for a device.
type deviceSRPState struct {
	Username string `json:"u"`
	Device   string `json:"d"`
	Key      []byte `json:"k"`
	Verifier []byte `json:"v"`
}

// deviceStep is the device's part of what follows a proven first factor,
// before MFA. With no device key, or in a pool that does not track
// devices, it does nothing (ok false). A key that is not one of the
// user's devices is refused with "Device does not exist.", on which
// Amplify forgets it and signs in again. In a pool whose
// ChallengeRequiredOnNewDevice is true, a remembered device proves itself
// now (DEVICE_SRP_AUTH), which is how it skips MFA; any other device does
// so only after MFA, in finishSignIn.
func (s *Service) deviceStep(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, deviceKey string, claim oneTimeClaim) (out AuthOutput, ok bool, err error) {
	if !tracksDevices(p) || deviceKey == "" {
		return AuthOutput{}, false, nil
	}
	if validDeviceKey(deviceKey) != nil {
		return AuthOutput{}, true, errDeviceNotFound
	}
	d, err := s.userDevice(ctx, p.ID, u.Username, deviceKey)
	if err != nil {
		return AuthOutput{}, true, err
	}
	if !d.Remembered || !p.Settings.DeviceConfiguration.ChallengeRequiredOnNewDevice {
		return AuthOutput{}, false, nil
	}
	out, err = s.deviceChallenge(ctx, c, p, u, deviceKey, claim)
	return out, true, err
}

// finishSignIn ends a sign-in whose every factor is proven. A device key
// of one of the user's devices makes the device prove itself
// (DEVICE_SRP_AUTH) before its tokens; with none, the tokens name a new
// device when the pool tracks devices. claim is the last factor's
// one-time claim.
func (s *Service) finishSignIn(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, deviceKey string, claim oneTimeClaim) (AuthOutput, error) {
	if tracksDevices(p) && deviceKey != "" {
		if validDeviceKey(deviceKey) != nil {
			return AuthOutput{}, errDeviceNotFound
		}
		if _, err := s.userDevice(ctx, p.ID, u.Username, deviceKey); err != nil {
			return AuthOutput{}, err
		}
		return s.deviceChallenge(ctx, c, p, u, deviceKey, claim)
	}
	res, err := s.signIn(ctx, c, p, u, grant{scope: ScopeSignInUserAdmin, claim: claim, newDevice: tracksDevices(p)})
	if err != nil {
		return AuthOutput{}, err
	}
	return AuthOutput{AuthenticationResult: res}, nil
}

// deviceChallenge asks the device to prove itself: DEVICE_SRP_AUTH, with
// a Session naming the user and the device. claim, the proof that got
// the sign-in here, is made now since no tokens are issued with it.
func (s *Service) deviceChallenge(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, deviceKey string, claim oneTimeClaim) (AuthOutput, error) {
	if err := s.claimAlone(ctx, claim); err != nil {
		return AuthOutput{}, err
	}
	sess, err := s.sealer.seal(sealDeviceAuth, p.ID+"|"+c.ClientID, s.now(), deviceAuthState{Username: u.Username, Device: deviceKey})
	if err != nil {
		return AuthOutput{}, internal("seal device session", err)
	}
	return AuthOutput{
		ChallengeName:       challengeDeviceSRP,
		Session:             sess,
		ChallengeParameters: map[string]string{"USERNAME": u.Username},
	}, nil
}

// startDeviceSRP answers DEVICE_SRP_AUTH ({USERNAME, SRP_A, DEVICE_KEY}
// with its Session) with DEVICE_PASSWORD_VERIFIER.
func (s *Service) startDeviceSRP(ctx context.Context, c storage.Client, p storage.Pool, session string, cr map[string]string) (AuthOutput, error) {
	var st deviceAuthState
	if err := s.sealer.open(sealDeviceAuth, p.ID+"|"+c.ClientID, session, sessionTTL(c), s.now(), &st); err != nil {
		return AuthOutput{}, errorf(ErrNotAuthorized, "Invalid session for the user, session is expired.")
	}
	for _, name := range []string{"USERNAME", "SRP_A", "DEVICE_KEY"} {
		if cr[name] == "" {
			return AuthOutput{}, invalidParam("Missing required parameter %s", name)
		}
	}
	if cr["USERNAME"] != st.Username || cr["DEVICE_KEY"] != st.Device {
		return AuthOutput{}, errorf(ErrNotAuthorized, "Invalid session for the user, session is expired.")
	}
	A, err := srp.ParseA(cr["SRP_A"])
	if err != nil {
		return AuthOutput{}, invalidParam("SRP_A is invalid")
	}
	d, err := s.userDevice(ctx, p.ID, st.Username, st.Device)
	if err != nil {
		return AuthOutput{}, err
	}
	sess, err := srp.NewServerSession(d.Verifier)
	if err != nil {
		return AuthOutput{}, internal("device srp session", err)
	}
	key, err := sess.Key(A)
	if err != nil {
		return AuthOutput{}, invalidParam("SRP_A is invalid")
	}
	block, err := s.sealer.seal(sealDeviceSRP, p.ID+"|"+c.ClientID, s.now(),
		deviceSRPState{Username: st.Username, Device: d.Key, Key: key, Verifier: fingerprint(d.Verifier)})
	if err != nil {
		return AuthOutput{}, internal("seal device srp", err)
	}
	return AuthOutput{
		ChallengeName: challengeDeviceVerifier,
		// The block proves everything the next step needs; Amplify sends
		// the Session back, which is then the same sealed state.
		Session: block,
		ChallengeParameters: map[string]string{
			"SALT":         hex.EncodeToString(d.Salt),
			"SECRET_BLOCK": block,
			"SRP_B":        sess.BHex(),
			"USERNAME":     st.Username,
		},
	}, nil
}

// verifyDeviceSRP answers DEVICE_PASSWORD_VERIFIER: a right signature
// signs the user in on the device, whose last sign-in is recorded.
func (s *Service) verifyDeviceSRP(ctx context.Context, c storage.Client, p storage.Pool, cr map[string]string) (AuthOutput, error) {
	blockB64, ts, sig := cr["PASSWORD_CLAIM_SECRET_BLOCK"], cr["TIMESTAMP"], cr["PASSWORD_CLAIM_SIGNATURE"]
	for _, name := range []string{"USERNAME", "PASSWORD_CLAIM_SECRET_BLOCK", "TIMESTAMP", "PASSWORD_CLAIM_SIGNATURE", "DEVICE_KEY"} {
		if cr[name] == "" {
			return AuthOutput{}, invalidParam("Missing required parameter %s", name)
		}
	}
	var st deviceSRPState
	now := s.now()
	if err := s.sealer.open(sealDeviceSRP, p.ID+"|"+c.ClientID, blockB64, srpBlockTTL, now, &st); err != nil {
		return AuthOutput{}, errorf(ErrNotAuthorized, "Invalid session for the user, session is expired.")
	}
	when, err := srp.ParseTimestamp(ts)
	if err != nil {
		return AuthOutput{}, invalidParam("TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.")
	}
	if d := now.Sub(when); d > timestampSkew || d < -timestampSkew {
		return AuthOutput{}, ErrNotAuthorized
	}
	if cr["USERNAME"] != st.Username || cr["DEVICE_KEY"] != st.Device {
		return AuthOutput{}, ErrNotAuthorized
	}
	u, err := s.findUser(ctx, p, st.Username)
	if errors.Is(err, ErrUserNotFound) {
		return AuthOutput{}, ErrNotAuthorized
	}
	if err != nil {
		return AuthOutput{}, err
	}
	d, err := s.userDevice(ctx, p.ID, u.Username, st.Device)
	if err != nil {
		return AuthOutput{}, err
	}
	g, err := s.startGuess(ctx, deviceSecret, p.ID, d.Key)
	if err != nil {
		return AuthOutput{}, err
	}
	block, _ := base64.StdEncoding.DecodeString(blockB64) // opened above, so valid
	ok := hmac.Equal(fingerprint(d.Verifier), st.Verifier) &&
		srp.VerifySignature(st.Key, d.GroupKey, d.Key, block, ts, sig)
	if err := g.settle(ctx, s.store, ok); err != nil {
		return AuthOutput{}, err
	}
	// The account may have changed since the first factor.
	if err := s.gate(u); errors.Is(err, errNewPasswordRequired) {
		return AuthOutput{}, ErrNotAuthorized
	} else if err != nil {
		return AuthOutput{}, err
	}
	res, err := s.signIn(ctx, c, p, u, grant{scope: ScopeSignInUserAdmin, claim: deviceBlockClaim(blockB64, now), deviceKey: d.Key})
	if err != nil {
		return AuthOutput{}, err
	}
	s.touchDevice(ctx, d, now)
	return AuthOutput{AuthenticationResult: res}, nil
}

// deviceBlockClaim is blockClaim for a device's secret block.
func deviceBlockClaim(block string, now time.Time) oneTimeClaim {
	return oneTimeClaim{key: append([]byte("device-srp/"), hashToken(block)...), until: now.Add(srpBlockTTL + srpClaimMargin)}
}

// touchDevice records a device's sign-in and the address it came from.
// The sign-in stands if that fails (a device forgotten meanwhile): the
// record is only what ListDevices shows.
func (s *Service) touchDevice(ctx context.Context, d storage.Device, now time.Time) {
	addr := clientAddr(ctx)
	err := s.store.UpdateDevice(ctx, d.PoolID, d.Key, func(d storage.Device) (storage.Device, error) {
		d.LastAuthenticatedAt = now
		if addr != "" {
			d.LastIP = addr
		}
		return d, nil
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.WarnContext(ctx, "record device sign-in", "pool", d.PoolID, "err", err)
	}
}
