package userpool

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
)

// TestDeviceSteps: what a device key does to a sign-in whose first factor
// is proven. Only a remembered device, in a pool whose
// ChallengeRequiredOnNewDevice is true, proves itself before MFA
// (deviceStep handles it), which is what lets it skip MFA; any other device
// proves itself once every factor is (finishSignIn); a key that is not the
// user's device is refused either way.
func TestDeviceSteps(t *testing.T) {
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s, err := New(ctx, Options{Storage: store, Keys: keys.NewManager(store, keys.Options{}), IssuerBase: "https://auth.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	pool := func(dc *DeviceConfigurationType) (storage.Pool, storage.Client) {
		out, err := s.CreateUserPool(ctx, CreateUserPoolInput{PoolName: "p", DeviceConfiguration: dc})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := store.GetPool(ctx, out.UserPool.Id)
		c, err := s.CreateUserPoolClient(ctx, CreateUserPoolClientInput{ClientSettingsInput: ClientSettingsInput{UserPoolId: p.ID, ClientName: "c"}})
		if err != nil {
			t.Fatal(err)
		}
		cl, _ := store.GetClient(ctx, c.UserPoolClient.ClientId)
		for _, name := range []string{"alice", "bob"} {
			if err := store.CreateUser(ctx, storage.User{PoolID: p.ID, Username: name, Sub: name + p.ID, Status: storage.StatusConfirmed, Enabled: true}); err != nil {
				t.Fatal(err)
			}
		}
		return p, cl
	}
	tracking, client := pool(&DeviceConfigurationType{ChallengeRequiredOnNewDevice: true})
	always, alwaysClient := pool(&DeviceConfigurationType{})
	plain, plainClient := pool(nil)
	now := time.Now()
	for key, d := range map[string]storage.Device{
		"us-east-1_1": {Username: "alice", Remembered: true},
		"us-east-1_2": {Username: "alice", Remembered: false},
		"us-east-1_3": {Username: "bob", Remembered: true},
	} {
		for _, p := range []storage.Pool{tracking, always} {
			d.PoolID, d.Key, d.GroupKey, d.Salt, d.Verifier, d.CreatedAt, d.UpdatedAt = p.ID, key, "-g", []byte{1}, []byte{2}, now, now
			if err := store.CreateDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	alice, _ := store.GetUser(ctx, tracking.ID, "alice")
	alwaysAlice, _ := store.GetUser(ctx, always.ID, "alice")
	plainAlice, _ := store.GetUser(ctx, plain.ID, "alice")

	for _, tc := range []struct {
		name      string
		plain     bool
		always    bool // the pool asks for MFA even on remembered devices
		key       string
		early     string // deviceStep's challenge, "" when it does not handle the key
		final     string // finishSignIn's challenge, "" for tokens
		err       error
		newDevice bool
	}{
		{name: "no key", final: "", newDevice: true},
		{name: "remembered device", key: "us-east-1_1", early: challengeDeviceSRP},
		{name: "device not remembered", key: "us-east-1_2", final: challengeDeviceSRP},
		{name: "another user's device", key: "us-east-1_3", err: errDeviceNotFound},
		{name: "unknown device", key: "us-east-1_9", err: errDeviceNotFound},
		{name: "malformed key", key: "nothing", err: errDeviceNotFound},
		{name: "pool without tracking", plain: true, key: "us-east-1_1"},
		{name: "remembered device, MFA on every device", always: true, key: "us-east-1_1", final: challengeDeviceSRP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c, u := tracking, client, alice
			switch {
			case tc.plain:
				p, c, u = plain, plainClient, plainAlice
			case tc.always:
				p, c, u = always, alwaysClient, alwaysAlice
			}
			out, ok, err := s.deviceStep(ctx, c, p, u, tc.key, oneTimeClaim{})
			if tc.err != nil {
				if !ok || !errors.Is(err, tc.err) {
					t.Fatalf("deviceStep = ok %v, %v; want %v", ok, err, tc.err)
				}
				if _, err := s.finishSignIn(ctx, c, p, u, tc.key, oneTimeClaim{}); !errors.Is(err, tc.err) {
					t.Fatalf("finishSignIn: %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || ok != (tc.early != "") || out.ChallengeName != tc.early {
				t.Fatalf("deviceStep = %+v, ok %v, %v; want challenge %q", out, ok, err, tc.early)
			}
			if ok {
				return
			}
			out, err = s.finishSignIn(ctx, c, p, u, tc.key, oneTimeClaim{})
			if err != nil || out.ChallengeName != tc.final {
				t.Fatalf("finishSignIn = %+v, %v; want challenge %q", out, err, tc.final)
			}
			if tc.final == "" && (out.AuthenticationResult.NewDeviceMetadata != nil) != tc.newDevice {
				t.Fatalf("NewDeviceMetadata = %+v, want one: %v", out.AuthenticationResult.NewDeviceMetadata, tc.newDevice)
			}
		})
	}

	// The first factor's proof is claimed with the device challenge: it
	// reaches the challenge once.
	claim := oneTimeClaim{key: []byte("test/claim"), until: now.Add(time.Hour)}
	if _, _, err := s.deviceStep(ctx, client, tracking, alice, "us-east-1_1", claim); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.deviceStep(ctx, client, tracking, alice, "us-east-1_1", claim); !errors.Is(err, errReplayed) {
		t.Fatalf("the same proof again: %v, want errReplayed", err)
	}
}
