package oauth_test

// Temporary: serves a demo for screenshots. Deleted before hand-off.

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"testing"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

func TestZZDemo(t *testing.T) {
	addr := os.Getenv("DEMO_ADDR")
	if addr == "" {
		t.Skip()
	}
	srv, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), PublicURL: "http://" + addr, Out: io.Discard, GuessRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	out, err := srv.Service().CreateUserPoolClientWithID(context.Background(), "democlient", userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: srv.Pool.ID, ClientName: "Acme Notes", AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows: []string{"code", "implicit"}, AllowedOAuthScopes: []string{"openid", "email", "profile"},
		CallbackURLs: []string{"http://localhost:8080/cb"}, LogoutURLs: []string{"http://localhost:8080/bye"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_ = out
	ctx := context.Background()
	if _, err := srv.Service().SignUp(ctx, userpool.SignUpInput{ClientId: "democlient", Username: "ann@example.com", Password: "Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Service().AdminConfirmSignUp(ctx, userpool.AdminUserInput{UserPoolId: srv.Pool.ID, Username: "ann@example.com"}); err != nil {
		t.Fatal(err)
	}
	srv.Service().AdminCreateUser(ctx, userpool.AdminCreateUserInput{UserPoolId: srv.Pool.ID, Username: "lu@example.com", TemporaryPassword: "TempPassw0rd!", MessageAction: "SUPPRESS",
		UserAttributes: []userpool.AttributeType{{Name: "email", Value: "lu@example.com"}}})
	ln, _ := net.Listen("tcp", addr)
	http.Serve(ln, srv.Handler())
}
