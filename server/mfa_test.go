package server

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestConfigFilePoolMFA: a pool declared in the config file gets its MFA
// mode and factors, and amplify_outputs.json says so in Amplify's words.
func TestConfigFilePoolMFA(t *testing.T) {
	for _, tc := range []struct {
		name, mfa   string
		wantMode    string
		wantMethods []string
		totp, email bool
		wantErr     string
	}{
		{"required with TOTP and email", `"MfaConfiguration":"ON","EnabledMfas":["SOFTWARE_TOKEN_MFA","EMAIL_OTP"]`, "REQUIRED", []string{"TOTP"}, true, true, ""},
		{"optional with no factor named offers TOTP", `"MfaConfiguration":"OPTIONAL"`, "OPTIONAL", []string{"TOTP"}, true, false, ""},
		{"off", `"MfaConfiguration":"OFF"`, "NONE", []string{}, false, false, ""},
		{"unknown factor", `"MfaConfiguration":"ON","EnabledMfas":["VOICE"]`, "", nil, false, false, "EnabledMfas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "cognate.json")
			doc := `{"UserPools":[{"Id":"eu-west-1_Mfa12345","PoolName":"app",` + tc.mfa + `,
			  "Clients":[{"ClientId":"web","ClientName":"web"}]}]}`
			if err := os.WriteFile(conf, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				s, err := New(context.Background(), Config{DataDir: t.TempDir(), ConfigFile: conf, Out: io.Discard})
				if err == nil {
					s.Close()
					t.Fatal("started with an unknown MFA factor")
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			s := newTestServer(t, Config{DataDir: t.TempDir(), ConfigFile: conf})
			set := s.Pool.Settings
			if set.SoftwareTokenMFAEnabled != tc.totp || set.EmailMFAEnabled != tc.email || set.SMSMFAEnabled {
				t.Fatalf("pool settings: %+v", set)
			}
			out := outputsFor(s.Pool, s.Client).Auth
			if out.MFAConfiguration != tc.wantMode || !slices.Equal(out.MFAMethods, tc.wantMethods) {
				t.Fatalf("outputs mfa %q %v, want %q %v", out.MFAConfiguration, out.MFAMethods, tc.wantMode, tc.wantMethods)
			}
		})
	}
}
