package server

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestConfigFileSignInPolicy: a config-file pool's sign-in policy is
// stored, and amplify_outputs.json enables the passwordless factors it
// allows, as Amplify reads them.
func TestConfigFileSignInPolicy(t *testing.T) {
	tests := []struct {
		name    string
		factors string
		want    *passwordless
	}{
		{"password only", `["PASSWORD"]`, nil},
		{"email codes", `["PASSWORD","EMAIL_OTP"]`, &passwordless{EmailOTPEnabled: true}},
		{"every factor", `["PASSWORD","EMAIL_OTP","SMS_OTP","WEB_AUTHN"]`,
			&passwordless{EmailOTPEnabled: true, SMSOTPEnabled: true, WebAuthn: &outputsWebAuthn{UserVerification: "preferred"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(t.TempDir(), "cognate.json")
			doc := `{"UserPools":[{"Id":"eu-west-1_Policy123","PoolName":"app","UsernameAttributes":["email"],
			  "Policies":{"SignInPolicy":{"AllowedFirstAuthFactors":` + tt.factors + `}},
			  "Clients":[{"ClientId":"myapp","ClientName":"my app","ExplicitAuthFlows":["ALLOW_USER_AUTH","ALLOW_REFRESH_TOKEN_AUTH"]}]}]}`
			if err := os.WriteFile(conf, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			s := newTestServer(t, Config{DataDir: dir, ConfigFile: conf})
			if got := s.Pool.Settings.AllowedFirstAuthFactors; len(got) == 0 || got[0] != "PASSWORD" {
				t.Fatalf("AllowedFirstAuthFactors = %v", got)
			}
			var out amplifyOutputs
			readJSON(t, filepath.Join(dir, "amplify_outputs.json"), &out)
			got := out.Auth.Passwordless
			switch {
			case tt.want == nil && got != nil, tt.want != nil && got == nil:
				t.Fatalf("passwordless = %+v, want %+v", got, tt.want)
			case tt.want != nil && (got.EmailOTPEnabled != tt.want.EmailOTPEnabled || got.SMSOTPEnabled != tt.want.SMSOTPEnabled ||
				(got.WebAuthn == nil) != (tt.want.WebAuthn == nil)):
				t.Fatalf("passwordless = %+v, want %+v", got, tt.want)
			}
			if !slices.Contains(s.Client.Settings.ExplicitAuthFlows, "ALLOW_USER_AUTH") {
				t.Fatalf("client flows = %v", s.Client.Settings.ExplicitAuthFlows)
			}
		})
	}
}
