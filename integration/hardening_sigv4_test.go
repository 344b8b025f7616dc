package integration_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognate-auth/cognate/server"
)

// TestAdminSignatureRegion: the SDK, configured for a region none of the
// server's pools is in, signs admin calls the server refuses as AWS does;
// configured for a region of its pools (the generated pools' us-east-1, or
// a config file pool's own region), the same calls succeed.
func TestAdminSignatureRegion(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "cognate.json")
	doc := `{"UserPools":[{"Id":"eu-west-1_Hardened1","PoolName":"eu","Clients":[{"ClientId":"euapp","ClientName":"eu"}]}]}`
	if err := os.WriteFile(conf, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	servers := map[string]*env{
		"default pool":   newEnv(t),
		"eu config pool": newEnvWith(t, server.Config{ConfigFile: conf}),
	}
	cases := []struct {
		server, region string
		ok             bool
	}{
		{"default pool", "us-east-1", true},
		{"default pool", "eu-west-1", false},
		{"default pool", "us-west-2", false},
		{"eu config pool", "eu-west-1", true},
		{"eu config pool", "us-east-1", true}, // where CreateUserPool puts new pools
		{"eu config pool", "ap-southeast-2", false},
	}
	for _, c := range cases {
		t.Run(c.server+" signed for "+c.region, func(t *testing.T) {
			e := servers[c.server]
			inRegion := func(o *cip.Options) { o.Region = c.region }
			_, err := e.api.ListUsers(e.ctx, &cip.ListUsersInput{UserPoolId: aws.String(e.pool)}, inRegion)
			if c.ok {
				if err != nil {
					t.Fatalf("ListUsers signed for %s: %v", c.region, err)
				}
				return
			}
			wantMessage(t, err, "InvalidSignatureException", "Credential should be scoped to a valid region, not '"+c.region+"'.")
		})
	}
}
