package integration_test

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/srp"
)

// device is what a client keeps of a device it confirmed, as Amplify's
// device metadata: the key, the group key and the device's secret.
type device struct {
	key, group, secret string
}

// devicePool creates a pool that tracks devices with the given
// DeviceConfiguration, a client, and users (username = password holder).
func (e *env) devicePool(cfg *types.DeviceConfigurationType, users ...string) (pool, client string) {
	e.t.Helper()
	pool = aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("devices"), DeviceConfiguration: cfg,
	}))(e.t).UserPool.Id)
	client, _ = e.newClient(pool)
	for _, u := range users {
		must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(pool), Username: aws.String(u), MessageAction: types.MessageActionTypeSuppress,
		}))(e.t)
		must(e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{
			UserPoolId: aws.String(pool), Username: aws.String(u), Password: aws.String(password), Permanent: true,
		}))(e.t)
	}
	return pool, client
}

// confirmDevice confirms the device a sign-in named, with a verifier
// computed here the way Amplify computes it, and returns it.
func (e *env) confirmDevice(tok *types.AuthenticationResultType, name string) (device, *cip.ConfirmDeviceOutput) {
	e.t.Helper()
	md := tok.NewDeviceMetadata
	if md == nil {
		e.t.Fatal("sign-in has no NewDeviceMetadata")
	}
	d := device{key: aws.ToString(md.DeviceKey), group: aws.ToString(md.DeviceGroupKey), secret: rand.Text()}
	out := must(e.api.ConfirmDevice(e.ctx, &cip.ConfirmDeviceInput{
		AccessToken: tok.AccessToken, DeviceKey: aws.String(d.key), DeviceName: aws.String(name),
		DeviceSecretVerifierConfig: verifierConfig(d),
	}))(e.t)
	return d, out
}

func verifierConfig(d device) *types.DeviceSecretVerifierConfigType {
	salt := srp.NewSalt()
	return &types.DeviceSecretVerifierConfigType{
		Salt:             aws.String(base64.StdEncoding.EncodeToString(salt)),
		PasswordVerifier: aws.String(base64.StdEncoding.EncodeToString(srp.Verifier(d.group, d.key, d.secret, salt))),
	}
}

// deviceSignIn signs in with USER_SRP_AUTH on a device, as Amplify does:
// DEVICE_KEY with the password's answer, then DEVICE_SRP_AUTH and
// DEVICE_PASSWORD_VERIFIER with the device's secret. It returns the
// tokens, or the first error.
func (e *env) deviceSignIn(pool, client, user string, d device) (*types.AuthenticationResultType, error) {
	e.t.Helper()
	c, cp := mustSRP(e.t)(e.srpStart(pool, client, user, nil))
	answer := e.srpAnswer(c, cp, password)
	answer["DEVICE_KEY"] = d.key
	out, err := e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, answer)
	if err != nil {
		return nil, err
	}
	return e.completeDeviceSRP(client, user, d, out)
}

// completeDeviceSRP answers DEVICE_SRP_AUTH (out) and
// DEVICE_PASSWORD_VERIFIER with the device's secret, checks that the
// right answer is refused a second time, and returns the tokens.
func (e *env) completeDeviceSRP(client, user string, d device, out *cip.RespondToAuthChallengeOutput) (*types.AuthenticationResultType, error) {
	e.t.Helper()
	if out.ChallengeName != types.ChallengeNameTypeDeviceSrpAuth || out.Session == nil {
		e.t.Fatalf("challenge %q, want DEVICE_SRP_AUTH with a Session", out.ChallengeName)
	}
	dc, err := srp.NewDeviceClient(d.group)
	if err != nil {
		e.t.Fatal(err)
	}
	out, err = e.respond(client, types.ChallengeNameTypeDeviceSrpAuth, out.Session, map[string]string{
		"USERNAME": user, "SRP_A": dc.AHex(), "DEVICE_KEY": d.key,
	})
	if err != nil {
		return nil, err
	}
	if out.ChallengeName != types.ChallengeNameTypeDevicePasswordVerifier {
		e.t.Fatalf("challenge %q, want DEVICE_PASSWORD_VERIFIER", out.ChallengeName)
	}
	p := out.ChallengeParameters
	sig, ts, err := dc.Respond(d.key, d.secret, p["SALT"], p["SRP_B"], p["SECRET_BLOCK"], time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	resp := map[string]string{
		"USERNAME": p["USERNAME"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"], "TIMESTAMP": ts,
		"PASSWORD_CLAIM_SIGNATURE": sig, "DEVICE_KEY": d.key,
	}
	out, err = e.respond(client, types.ChallengeNameTypeDevicePasswordVerifier, out.Session, resp)
	if err != nil {
		return nil, err
	}
	// The same right answer again is refused: it was used.
	_, replay := e.respond(client, types.ChallengeNameTypeDevicePasswordVerifier, nil, resp)
	wantErr(e.t, replay, "NotAuthorizedException")
	return out.AuthenticationResult, nil
}

func deviceAttr(d types.DeviceType, name string) string {
	v, _ := attr(d.DeviceAttributes, name)
	return v
}

// TestDeviceTracking is device tracking end to end through the SDK: the
// pool's setting, a new device at sign-in, ConfirmDevice, remembering it,
// a sign-in on the device with device SRP, refresh on it, and listing and
// forgetting devices, as the user and as an administrator.
func TestDeviceTracking(t *testing.T) {
	e := newEnv(t)
	pool, client := e.devicePool(&types.DeviceConfigurationType{DeviceOnlyRememberedOnUserPrompt: true}, "alice", "bob")

	desc := must(e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)}))(t)
	if dc := desc.UserPool.DeviceConfiguration; dc == nil || !dc.DeviceOnlyRememberedOnUserPrompt || dc.ChallengeRequiredOnNewDevice {
		t.Fatalf("DescribeUserPool DeviceConfiguration = %+v", dc)
	}

	first := e.srpSignIn(pool, client, "alice", password)
	md := first.NewDeviceMetadata
	if md == nil || !strings.HasPrefix(aws.ToString(md.DeviceKey), region+"_") || aws.ToString(md.DeviceGroupKey) == "" {
		t.Fatalf("NewDeviceMetadata = %+v", md)
	}
	if got := claims(t, aws.ToString(first.AccessToken))["device_key"]; got != aws.ToString(md.DeviceKey) {
		t.Fatalf("device_key claim %v, want %s", got, aws.ToString(md.DeviceKey))
	}
	d, conf := e.confirmDevice(first, "alice's laptop")
	if !conf.UserConfirmationNecessary {
		t.Error("UserConfirmationNecessary false in a pool that remembers devices on the user's prompt")
	}
	got := must(e.api.GetDevice(e.ctx, &cip.GetDeviceInput{AccessToken: first.AccessToken, DeviceKey: aws.String(d.key)}))(t).Device
	for name, want := range map[string]string{
		"device_name": "alice's laptop", "dev:device_remembered_status": "not_remembered", "device_status": "valid", "last_ip_used": "127.0.0.1",
	} {
		if v := deviceAttr(*got, name); v != want {
			t.Errorf("GetDevice %s = %q, want %q", name, v, want)
		}
	}
	if aws.ToString(got.DeviceKey) != d.key || got.DeviceCreateDate == nil || time.Since(*got.DeviceCreateDate) > time.Minute ||
		got.DeviceLastAuthenticatedDate == nil || got.DeviceLastModifiedDate == nil {
		t.Errorf("GetDevice = %+v", got)
	}
	must(e.api.UpdateDeviceStatus(e.ctx, &cip.UpdateDeviceStatusInput{
		AccessToken: first.AccessToken, DeviceKey: aws.String(d.key), DeviceRememberedStatus: types.DeviceRememberedStatusTypeRemembered,
	}))(t)
	got = must(e.api.GetDevice(e.ctx, &cip.GetDeviceInput{AccessToken: first.AccessToken, DeviceKey: aws.String(d.key)}))(t).Device
	if v := deviceAttr(*got, "dev:device_remembered_status"); v != "remembered" {
		t.Errorf("after UpdateDeviceStatus remembered: %q", v)
	}

	// Signing in on the device: device SRP, no new device, device_key.
	on := must(e.deviceSignIn(pool, client, "alice", d))(t)
	if on.NewDeviceMetadata != nil {
		t.Errorf("sign-in on a known device named a new one: %+v", on.NewDeviceMetadata)
	}
	if got := claims(t, aws.ToString(on.AccessToken))["device_key"]; got != d.key {
		t.Errorf("device_key after device SRP = %v, want %s", got, d.key)
	}
	// USER_PASSWORD_AUTH on the device asks for the device too.
	pw := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": password, "DEVICE_KEY": d.key},
	}))(t)
	if pw.ChallengeName != types.ChallengeNameTypeDeviceSrpAuth || pw.ChallengeParameters["USERNAME"] != "alice" {
		t.Errorf("USER_PASSWORD_AUTH with DEVICE_KEY: challenge %q %v", pw.ChallengeName, pw.ChallengeParameters)
	}

	// Refresh on the device, both ways.
	ref := must(e.api.GetTokensFromRefreshToken(e.ctx, &cip.GetTokensFromRefreshTokenInput{
		ClientId: aws.String(client), RefreshToken: on.RefreshToken, DeviceKey: aws.String(d.key),
	}))(t).AuthenticationResult
	if got := claims(t, aws.ToString(ref.AccessToken))["device_key"]; got != d.key {
		t.Errorf("device_key after GetTokensFromRefreshToken = %v", got)
	}
	rta := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(on.RefreshToken), "DEVICE_KEY": d.key},
	}))(t).AuthenticationResult
	if got := claims(t, aws.ToString(rta.AccessToken))["device_key"]; got != d.key {
		t.Errorf("device_key after REFRESH_TOKEN_AUTH = %v", got)
	}

	// A second device, and listing page by page.
	second := e.srpSignIn(pool, client, "alice", password)
	d2, _ := e.confirmDevice(second, "alice's phone")
	var listed []string
	for token := (*string)(nil); ; {
		out := must(e.api.ListDevices(e.ctx, &cip.ListDevicesInput{AccessToken: on.AccessToken, Limit: aws.Int32(1), PaginationToken: token}))(t)
		if len(out.Devices) != 1 {
			t.Fatalf("ListDevices page of %d devices, want 1", len(out.Devices))
		}
		listed = append(listed, aws.ToString(out.Devices[0].DeviceKey))
		if token = out.PaginationToken; token == nil {
			break
		}
	}
	admin := must(e.api.AdminListDevices(e.ctx, &cip.AdminListDevicesInput{UserPoolId: aws.String(pool), Username: aws.String("alice")}))(t)
	if len(listed) != 2 || len(admin.Devices) != 2 || admin.PaginationToken != nil {
		t.Fatalf("ListDevices listed %v; AdminListDevices %d devices", listed, len(admin.Devices))
	}

	// Admin variants.
	must(e.api.AdminUpdateDeviceStatus(e.ctx, &cip.AdminUpdateDeviceStatusInput{
		UserPoolId: aws.String(pool), Username: aws.String("alice"), DeviceKey: aws.String(d2.key),
		DeviceRememberedStatus: types.DeviceRememberedStatusTypeRemembered,
	}))(t)
	ag := must(e.api.AdminGetDevice(e.ctx, &cip.AdminGetDeviceInput{UserPoolId: aws.String(pool), Username: aws.String("alice"), DeviceKey: aws.String(d2.key)}))(t)
	if deviceAttr(*ag.Device, "device_name") != "alice's phone" || deviceAttr(*ag.Device, "dev:device_remembered_status") != "remembered" {
		t.Errorf("AdminGetDevice = %+v", ag.Device.DeviceAttributes)
	}
	must(e.api.AdminForgetDevice(e.ctx, &cip.AdminForgetDeviceInput{UserPoolId: aws.String(pool), Username: aws.String("alice"), DeviceKey: aws.String(d2.key)}))(t)
	_, err := e.api.AdminGetDevice(e.ctx, &cip.AdminGetDeviceInput{UserPoolId: aws.String(pool), Username: aws.String("alice"), DeviceKey: aws.String(d2.key)})
	wantMessage(t, err, "ResourceNotFoundException", "Device does not exist.")
	_, err = e.api.AdminListDevices(e.ctx, &cip.AdminListDevicesInput{UserPoolId: aws.String(pool), Username: aws.String("nobody")})
	wantErr(t, err, "UserNotFoundException")

	// The user forgets the first device: it is refused from then on.
	must(e.api.ForgetDevice(e.ctx, &cip.ForgetDeviceInput{AccessToken: on.AccessToken, DeviceKey: aws.String(d.key)}))(t)
	_, err = e.api.GetDevice(e.ctx, &cip.GetDeviceInput{AccessToken: on.AccessToken, DeviceKey: aws.String(d.key)})
	wantMessage(t, err, "ResourceNotFoundException", "Device does not exist.")
	_, err = e.deviceSignIn(pool, client, "alice", d)
	wantMessage(t, err, "ResourceNotFoundException", "Device does not exist.")
	_, err = e.api.GetTokensFromRefreshToken(e.ctx, &cip.GetTokensFromRefreshTokenInput{
		ClientId: aws.String(client), RefreshToken: on.RefreshToken, DeviceKey: aws.String(d.key),
	})
	wantMessage(t, err, "ResourceNotFoundException", "Device does not exist.")
	_, err = e.api.ForgetDevice(e.ctx, &cip.ForgetDeviceInput{AccessToken: on.AccessToken, DeviceKey: aws.String(d.key)})
	wantMessage(t, err, "ResourceNotFoundException", "Device does not exist.")
	left := must(e.api.ListDevices(e.ctx, &cip.ListDevicesInput{AccessToken: on.AccessToken}))(t)
	if len(left.Devices) != 0 {
		t.Errorf("devices left after forgetting both: %d", len(left.Devices))
	}
}

// TestDeviceRefusals: another user's device, a wrong device secret, a
// device key the token was not issued on, bad verifiers and bad input,
// each with Cognito's error and nothing stored; and a pool that does not
// track devices names none.
func TestDeviceRefusals(t *testing.T) {
	e := newEnv(t)
	pool, client := e.devicePool(&types.DeviceConfigurationType{}, "alice", "bob")
	alice := e.srpSignIn(pool, client, "alice", password)
	d, conf := e.confirmDevice(alice, "alice's laptop")
	if conf.UserConfirmationNecessary {
		t.Error("UserConfirmationNecessary in a pool that remembers every device")
	}
	bob := e.srpSignIn(pool, client, "bob", password)
	notFound := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: succeeded", what)
			return
		}
		wantMessage(t, err, "ResourceNotFoundException", "Device does not exist.")
	}

	t.Run("another user's device", func(t *testing.T) {
		_, err := e.deviceSignIn(pool, client, "bob", d)
		notFound("bob signs in on alice's device", err)
		_, err = e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "bob", "PASSWORD": password, "DEVICE_KEY": d.key},
		})
		notFound("USER_PASSWORD_AUTH with alice's device", err)
		_, err = e.api.GetDevice(e.ctx, &cip.GetDeviceInput{AccessToken: bob.AccessToken, DeviceKey: aws.String(d.key)})
		notFound("GetDevice", err)
		_, err = e.api.UpdateDeviceStatus(e.ctx, &cip.UpdateDeviceStatusInput{AccessToken: bob.AccessToken, DeviceKey: aws.String(d.key), DeviceRememberedStatus: types.DeviceRememberedStatusTypeNotRemembered})
		notFound("UpdateDeviceStatus", err)
		_, err = e.api.ForgetDevice(e.ctx, &cip.ForgetDeviceInput{AccessToken: bob.AccessToken, DeviceKey: aws.String(d.key)})
		notFound("ForgetDevice", err)
		_, err = e.api.GetTokensFromRefreshToken(e.ctx, &cip.GetTokensFromRefreshTokenInput{
			ClientId: aws.String(client), RefreshToken: bob.RefreshToken, DeviceKey: aws.String(d.key),
		})
		notFound("refresh with alice's device", err)
		_, err = e.api.AdminGetDevice(e.ctx, &cip.AdminGetDeviceInput{UserPoolId: aws.String(pool), Username: aws.String("bob"), DeviceKey: aws.String(d.key)})
		notFound("AdminGetDevice", err)
		// Confirming alice's key with bob's token.
		_, err = e.api.ConfirmDevice(e.ctx, &cip.ConfirmDeviceInput{
			AccessToken: bob.AccessToken, DeviceKey: aws.String(d.key), DeviceSecretVerifierConfig: verifierConfig(d),
		})
		notFound("ConfirmDevice with another user's key", err)
		// Alice's device is untouched.
		got := must(e.api.GetDevice(e.ctx, &cip.GetDeviceInput{AccessToken: alice.AccessToken, DeviceKey: aws.String(d.key)}))(t).Device
		if deviceAttr(*got, "dev:device_remembered_status") != "remembered" {
			t.Errorf("alice's device after bob's attempts: %+v", got.DeviceAttributes)
		}
	})

	t.Run("wrong device secret", func(t *testing.T) {
		wrong := d
		wrong.secret = "not the device's secret"
		_, err := e.deviceSignIn(pool, client, "alice", wrong)
		wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
	})

	t.Run("device challenge sessions", func(t *testing.T) {
		start := func(client string) *string {
			c, cp := mustSRP(t)(e.srpStart(pool, client, "alice", nil))
			answer := e.srpAnswer(c, cp, password)
			answer["DEVICE_KEY"] = d.key
			out := must(e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, answer))(t)
			if out.ChallengeName != types.ChallengeNameTypeDeviceSrpAuth {
				t.Fatalf("challenge %q, want DEVICE_SRP_AUTH", out.ChallengeName)
			}
			return out.Session
		}
		other, _ := e.newClient(pool)
		dc := must(srp.NewDeviceClient(d.group))(t)
		for _, tc := range []struct {
			name    string
			client  string
			session func() *string
			resp    map[string]string
		}{
			{"another device key", client, func() *string { return start(client) }, map[string]string{"USERNAME": "alice", "SRP_A": dc.AHex(), "DEVICE_KEY": region + "_0"}},
			{"another user", client, func() *string { return start(client) }, map[string]string{"USERNAME": "bob", "SRP_A": dc.AHex(), "DEVICE_KEY": d.key}},
			{"another client", other, func() *string { return start(client) }, map[string]string{"USERNAME": "alice", "SRP_A": dc.AHex(), "DEVICE_KEY": d.key}},
			{"no session", client, func() *string { return nil }, map[string]string{"USERNAME": "alice", "SRP_A": dc.AHex(), "DEVICE_KEY": d.key}},
		} {
			_, err := e.respond(tc.client, types.ChallengeNameTypeDeviceSrpAuth, tc.session(), tc.resp)
			wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
		}
		_, err := e.respond(client, types.ChallengeNameTypeDevicePasswordVerifier, nil, map[string]string{
			"USERNAME": "alice", "PASSWORD_CLAIM_SECRET_BLOCK": base64.StdEncoding.EncodeToString([]byte("forged block of forty-eight bytes, not sealed..")),
			"TIMESTAMP": srp.FormatTimestamp(time.Now()), "PASSWORD_CLAIM_SIGNATURE": base64.StdEncoding.EncodeToString(make([]byte, 32)), "DEVICE_KEY": d.key,
		})
		wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
	})

	t.Run("ConfirmDevice", func(t *testing.T) {
		fresh := e.srpSignIn(pool, client, "bob", password)
		key := aws.ToString(fresh.NewDeviceMetadata.DeviceKey)
		group := aws.ToString(fresh.NewDeviceMetadata.DeviceGroupKey)
		zero := base64.StdEncoding.EncodeToString([]byte{0, 0})
		for _, tc := range []struct {
			name string
			in   cip.ConfirmDeviceInput
			code string
		}{
			{"zero verifier", cip.ConfirmDeviceInput{DeviceKey: aws.String(key), DeviceSecretVerifierConfig: &types.DeviceSecretVerifierConfigType{Salt: aws.String("AAEC"), PasswordVerifier: aws.String(zero)}}, "InvalidParameterException"},
			{"verifier not base64", cip.ConfirmDeviceInput{DeviceKey: aws.String(key), DeviceSecretVerifierConfig: &types.DeviceSecretVerifierConfigType{Salt: aws.String("AAEC"), PasswordVerifier: aws.String("*")}}, "InvalidParameterException"},
			{"no verifier", cip.ConfirmDeviceInput{DeviceKey: aws.String(key)}, "InvalidParameterException"},
			{"key not of the pattern", cip.ConfirmDeviceInput{DeviceKey: aws.String("no-underscore"), DeviceSecretVerifierConfig: verifierConfig(device{key: key, group: group})}, "InvalidParameterException"},
			{"key of no sign-in", cip.ConfirmDeviceInput{DeviceKey: aws.String(region + "_0000"), DeviceSecretVerifierConfig: verifierConfig(device{key: key, group: group})}, "ResourceNotFoundException"},
		} {
			in := tc.in
			in.AccessToken = fresh.AccessToken
			_, err := e.api.ConfirmDevice(e.ctx, &in)
			wantErr(t, err, tc.code)
		}
		listed := must(e.api.ListDevices(e.ctx, &cip.ListDevicesInput{AccessToken: fresh.AccessToken}))(t)
		if len(listed.Devices) != 0 {
			t.Fatalf("refused ConfirmDevice calls stored %d devices", len(listed.Devices))
		}
		e.confirmDevice(fresh, "bob's tablet")
		_, err := e.api.ConfirmDevice(e.ctx, &cip.ConfirmDeviceInput{
			AccessToken: fresh.AccessToken, DeviceKey: aws.String(key), DeviceSecretVerifierConfig: verifierConfig(device{key: key, group: group, secret: "x"}),
		})
		wantErr(t, err, "InvalidParameterException")
		_, err = e.api.ListDevices(e.ctx, &cip.ListDevicesInput{AccessToken: fresh.AccessToken, Limit: aws.Int32(61)})
		wantErr(t, err, "InvalidParameterException")
		_, err = e.api.ListDevices(e.ctx, &cip.ListDevicesInput{AccessToken: fresh.AccessToken, PaginationToken: aws.String("!!")})
		wantErr(t, err, "InvalidParameterException")
	})

	t.Run("pool without device tracking", func(t *testing.T) {
		plain, plainClient := e.devicePool(nil, "carol")
		tok := e.srpSignIn(plain, plainClient, "carol", password)
		if tok.NewDeviceMetadata != nil {
			t.Errorf("NewDeviceMetadata in a pool without device tracking: %+v", tok.NewDeviceMetadata)
		}
		if _, ok := claims(t, aws.ToString(tok.AccessToken))["device_key"]; ok {
			t.Error("device_key claim in a pool without device tracking")
		}
		desc := must(e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(plain)}))(t)
		if desc.UserPool.DeviceConfiguration != nil {
			t.Errorf("DeviceConfiguration %+v", desc.UserPool.DeviceConfiguration)
		}
	})
}

// TestDeviceConfigurationFromConfigFile: a pool declared in the config
// file tracks devices as declared, here remembering every device without
// asking.
func TestDeviceConfigurationFromConfigFile(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "cognate.json")
	if err := os.WriteFile(cfgFile, []byte(`{"UserPools": [{"Id": "us-east-1_devices", "PoolName": "devices",
	  "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": false},
	  "Clients": [{"ClientId": "devicesclient", "ClientName": "web",
	    "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, server.Config{ConfigFile: cfgFile})
	desc := must(e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String("us-east-1_devices")}))(t)
	if dc := desc.UserPool.DeviceConfiguration; dc == nil || !dc.ChallengeRequiredOnNewDevice || dc.DeviceOnlyRememberedOnUserPrompt {
		t.Fatalf("DeviceConfiguration from the file = %+v", dc)
	}
	must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String("us-east-1_devices"), Username: aws.String("erin"), MessageAction: types.MessageActionTypeSuppress,
	}))(t)
	must(e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String("us-east-1_devices"), Username: aws.String("erin"), Password: aws.String(password), Permanent: true,
	}))(t)
	tok := e.signIn("devicesclient", "erin", password)
	d, conf := e.confirmDevice(tok, "erin's desktop")
	if conf.UserConfirmationNecessary {
		t.Error("UserConfirmationNecessary in a pool that remembers every device")
	}
	got := must(e.api.GetDevice(e.ctx, &cip.GetDeviceInput{AccessToken: tok.AccessToken, DeviceKey: aws.String(d.key)}))(t).Device
	if v := deviceAttr(*got, "dev:device_remembered_status"); v != "remembered" {
		t.Errorf("device status %q, want remembered", v)
	}
}

// TestDeviceTrackingByUpdateUserPool: UpdateUserPool turns device
// tracking on for an existing pool, and off again (a member left out goes
// back to its default, as in Cognito).
func TestDeviceTrackingByUpdateUserPool(t *testing.T) {
	e := newEnv(t)
	pool, client := e.devicePool(nil, "frank")
	if tok := e.signIn(client, "frank", password); tok.NewDeviceMetadata != nil {
		t.Fatalf("NewDeviceMetadata before tracking: %+v", tok.NewDeviceMetadata)
	}
	must(e.api.UpdateUserPool(e.ctx, &cip.UpdateUserPoolInput{
		UserPoolId: aws.String(pool), DeviceConfiguration: &types.DeviceConfigurationType{DeviceOnlyRememberedOnUserPrompt: true},
	}))(t)
	desc := must(e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)}))(t)
	if dc := desc.UserPool.DeviceConfiguration; dc == nil || !dc.DeviceOnlyRememberedOnUserPrompt {
		t.Fatalf("DeviceConfiguration after UpdateUserPool = %+v", dc)
	}
	tok := e.signIn(client, "frank", password)
	d, conf := e.confirmDevice(tok, "frank's laptop")
	if !conf.UserConfirmationNecessary {
		t.Error("UserConfirmationNecessary false after UpdateUserPool asked for the user's prompt")
	}
	must(e.api.UpdateUserPool(e.ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(pool)}))(t)
	if tok := e.signIn(client, "frank", password); tok.NewDeviceMetadata != nil {
		t.Errorf("NewDeviceMetadata after tracking was turned off: %+v", tok.NewDeviceMetadata)
	}
	// The confirmed device stays listed.
	listed := must(e.api.AdminListDevices(e.ctx, &cip.AdminListDevicesInput{UserPoolId: aws.String(pool), Username: aws.String("frank")}))(t)
	if len(listed.Devices) != 1 || aws.ToString(listed.Devices[0].DeviceKey) != d.key {
		t.Errorf("devices after tracking was turned off: %+v", listed.Devices)
	}
}

// TestRememberedDeviceSkipsMFA: in a pool with MFA on and
// ChallengeRequiredOnNewDevice, a remembered device proves itself instead
// of MFA; a device that is not remembered, or any device in a pool
// without ChallengeRequiredOnNewDevice, does MFA first and then proves
// itself.
func TestRememberedDeviceSkipsMFA(t *testing.T) {
	e := newEnv(t)
	pool, client := e.mfaPool(types.UserPoolMfaTypeOn, true, false, false)
	e.mfaUser(pool, "ann", attrT("phone_number", "+15555550142"))
	devices := func(challengeOnNew bool) {
		must(e.api.UpdateUserPool(e.ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(pool), MfaConfiguration: types.UserPoolMfaTypeOn,
			DeviceConfiguration: &types.DeviceConfigurationType{ChallengeRequiredOnNewDevice: challengeOnNew}}))(t)
	}
	devices(true)
	signIn := func(deviceKey string) *cip.InitiateAuthOutput {
		params := map[string]string{"USERNAME": "ann", "PASSWORD": password}
		if deviceKey != "" {
			params["DEVICE_KEY"] = deviceKey
		}
		return must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: params,
		}))(t)
	}
	sms := func(ch *cip.InitiateAuthOutput, deviceKey string) *cip.RespondToAuthChallengeOutput {
		t.Helper()
		if ch.ChallengeName != types.ChallengeNameTypeSmsMfa {
			t.Fatalf("challenge %q, want SMS_MFA", ch.ChallengeName)
		}
		resp := map[string]string{"USERNAME": "ann", "SMS_MFA_CODE": e.code("+15555550142", "mfa_sms")}
		if deviceKey != "" {
			resp["DEVICE_KEY"] = deviceKey
		}
		return must(e.respond(client, types.ChallengeNameTypeSmsMfa, ch.Session, resp))(t)
	}

	// A new device: MFA, then tokens naming the device, confirmed and
	// remembered (the pool does not ask the user).
	first := sms(signIn(""), "").AuthenticationResult
	d, _ := e.confirmDevice(first, "ann's phone")

	// The remembered device: no MFA, the device proves itself.
	ch := signIn(d.key)
	tok := must(e.completeDeviceSRP(client, "ann", d, &cip.RespondToAuthChallengeOutput{ChallengeName: ch.ChallengeName, Session: ch.Session}))(t)
	if got := claims(t, aws.ToString(tok.AccessToken))["device_key"]; got != d.key || tok.NewDeviceMetadata != nil {
		t.Fatalf("remembered device: device_key %v, NewDeviceMetadata %+v", got, tok.NewDeviceMetadata)
	}

	// Not remembered: MFA first, then the device proves itself.
	must(e.api.AdminUpdateDeviceStatus(e.ctx, &cip.AdminUpdateDeviceStatusInput{UserPoolId: aws.String(pool), Username: aws.String("ann"),
		DeviceKey: aws.String(d.key), DeviceRememberedStatus: types.DeviceRememberedStatusTypeNotRemembered}))(t)
	tok = must(e.completeDeviceSRP(client, "ann", d, sms(signIn(d.key), d.key)))(t)
	if got := claims(t, aws.ToString(tok.AccessToken))["device_key"]; got != d.key {
		t.Fatalf("device not remembered: device_key %v", got)
	}

	// Remembered again, in a pool without ChallengeRequiredOnNewDevice:
	// MFA all the same.
	must(e.api.AdminUpdateDeviceStatus(e.ctx, &cip.AdminUpdateDeviceStatusInput{UserPoolId: aws.String(pool), Username: aws.String("ann"),
		DeviceKey: aws.String(d.key), DeviceRememberedStatus: types.DeviceRememberedStatusTypeRemembered}))(t)
	devices(false)
	must(e.completeDeviceSRP(client, "ann", d, sms(signIn(d.key), d.key)))(t)
}
