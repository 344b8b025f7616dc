package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Operations loadgen can drive. One op is one thing an app does: an SRP
// sign-in is its two requests together.
const (
	opGetUser          = "getuser"
	opPasswordSignIn   = "password-signin"
	opSRPSignIn        = "srp-signin"
	opRefresh          = "refresh"        // GetTokensFromRefreshToken, rotation off
	opRefreshRotate    = "refresh-rotate" // GetTokensFromRefreshToken, rotation on, chained
	opRefreshTokenAuth = "refresh-token-auth"
	opRSASign          = "rsa-sign" // raw RS256 signing with the pool's key; no server
	// opHTTPFloor posts a GetUser-sized request to a trivial net/http
	// handler (loadgen -noop-server): what HTTP alone costs.
	opHTTPFloor = "http-floor"
)

var allOps = []string{opGetUser, opPasswordSignIn, opSRPSignIn, opRefresh, opRefreshRotate, opRefreshTokenAuth, opRSASign, opHTTPFloor}

// worker is one load goroutine's state: it owns one keep-alive
// connection's worth of requests at a time.
type worker struct {
	id      int
	a       *api         // the node this worker talks to
	next    int          // round-robin over users
	buf     bytes.Buffer // response body
	refresh string       // refresh-rotate: this worker's current token
	srp     *srpClient
}

// opFunc performs one operation and checks its answer.
type opFunc func(ctx context.Context, w *worker) error

// prepare does the op's own setup (sign-ins for tokens) and returns the
// op and a per-worker initialiser.
func prepare(ctx context.Context, a *api, cfg *config, f *fixture) (opFunc, func(context.Context, *worker) error, error) {
	noInit := func(context.Context, *worker) error { return nil }
	pick := func(w *worker, n int) int {
		i := (w.id + w.next) % n
		w.next++
		return i
	}
	switch cfg.op {
	case opGetUser:
		if err := f.signInAll(ctx, a, f.plain); err != nil {
			return nil, nil, err
		}
		bodies := make([][]byte, len(f.tokens))
		for i, t := range f.tokens {
			bodies[i] = mustJSON(map[string]string{"AccessToken": t.AccessToken})
		}
		return func(ctx context.Context, w *worker) error {
			resp, err := w.a.call(ctx, "GetUser", bodies[pick(w, len(bodies))], false, &w.buf)
			return expect(resp, err, "GetUser", `"Username"`)
		}, noInit, nil

	case opPasswordSignIn:
		bodies := make([][]byte, len(f.users))
		for i, u := range f.users {
			bodies[i] = mustJSON(map[string]any{
				"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": f.plain,
				"AuthParameters": map[string]string{"USERNAME": u.email, "PASSWORD": benchPassword},
			})
		}
		return func(ctx context.Context, w *worker) error {
			resp, err := w.a.call(ctx, "InitiateAuth", bodies[pick(w, len(bodies))], false, &w.buf)
			return expect(resp, err, "InitiateAuth USER_PASSWORD_AUTH", `"RefreshToken"`)
		}, noInit, nil

	case opSRPSignIn:
		init := func(_ context.Context, w *worker) (err error) {
			w.srp, err = newSRPClient(f.poolID)
			return err
		}
		return func(ctx context.Context, w *worker) error {
			u := f.users[pick(w, len(f.users))]
			resp, err := w.a.call(ctx, "InitiateAuth", mustJSON(map[string]any{
				"AuthFlow": "USER_SRP_AUTH", "ClientId": f.plain,
				"AuthParameters": map[string]string{"USERNAME": u.email, "SRP_A": w.srp.aHex},
			}), false, &w.buf)
			if err != nil {
				return err
			}
			var ch authOutput
			if err := json.Unmarshal(resp, &ch); err != nil || ch.ChallengeName != "PASSWORD_VERIFIER" {
				return fmt.Errorf("InitiateAuth USER_SRP_AUTH: want PASSWORD_VERIFIER, got %q (%v)", ch.ChallengeName, err)
			}
			p := ch.ChallengeParameters
			sig, ts, err := w.srp.respond(p["USER_ID_FOR_SRP"], benchPassword, p["SALT"], p["SRP_B"], p["SECRET_BLOCK"], time.Now())
			if err != nil {
				return fmt.Errorf("SRP client: %w", err)
			}
			resp, err = w.a.call(ctx, "RespondToAuthChallenge", mustJSON(map[string]any{
				"ClientId": f.plain, "ChallengeName": "PASSWORD_VERIFIER",
				"ChallengeResponses": map[string]string{
					"USERNAME": p["USER_ID_FOR_SRP"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
					"TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig,
				},
			}), false, &w.buf)
			return expect(resp, err, "RespondToAuthChallenge", `"RefreshToken"`)
		}, init, nil

	case opRefresh, opRefreshTokenAuth:
		if err := f.signInAll(ctx, a, f.plain); err != nil {
			return nil, nil, err
		}
		target := "GetTokensFromRefreshToken"
		if cfg.op == opRefreshTokenAuth {
			target = "InitiateAuth"
		}
		bodies := make([][]byte, len(f.tokens))
		for i, t := range f.tokens {
			if cfg.op == opRefresh {
				bodies[i] = mustJSON(map[string]string{"ClientId": f.plain, "RefreshToken": t.RefreshToken})
			} else {
				bodies[i] = mustJSON(map[string]any{
					"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": f.plain,
					"AuthParameters": map[string]string{"REFRESH_TOKEN": t.RefreshToken},
				})
			}
		}
		return func(ctx context.Context, w *worker) error {
			resp, err := w.a.call(ctx, target, bodies[pick(w, len(bodies))], false, &w.buf)
			return expect(resp, err, target, `"IdToken"`)
		}, noInit, nil

	case opRefreshRotate:
		// Each worker is its own signed-in app: its own refresh-token
		// family, redeeming whatever token the last refresh returned.
		init := func(ctx context.Context, w *worker) error {
			res, err := passwordSignIn(ctx, a, f.rotating, f.users[w.id%len(f.users)])
			w.refresh = res.RefreshToken
			return err
		}
		return func(ctx context.Context, w *worker) error {
			resp, err := w.a.call(ctx, "GetTokensFromRefreshToken",
				mustJSON(map[string]string{"ClientId": f.rotating, "RefreshToken": w.refresh}), false, &w.buf)
			if err := expect(resp, err, "GetTokensFromRefreshToken", `"IdToken"`); err != nil {
				return err
			}
			next, ok := refreshTokenOf(resp)
			if !ok {
				return errors.New("GetTokensFromRefreshToken with rotation on returned no new refresh token")
			}
			w.refresh = next
			return nil
		}, init, nil
	}
	return nil, nil, fmt.Errorf("unknown -op %q", cfg.op)
}

// httpFloorOp posts what a GetUser posts (a ~1 KB access token) and
// expects what a GetUser answers.
func httpFloorOp() opFunc {
	body := mustJSON(map[string]string{"AccessToken": strings.Repeat("x", 1100)})
	return func(ctx context.Context, w *worker) error {
		resp, err := w.a.call(ctx, "GetUser", body, false, &w.buf)
		return expect(resp, err, "http-floor", `"Username"`)
	}
}

// serveNoop answers every request with a small GetUser-shaped body: the
// cheapest a Go HTTP server can be, to compare GetUser with.
func serveNoop(ctx context.Context, addr string) error {
	if err := checkLoopback("http://" + addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	const answer = `{"Username":"3f1e0c2a-0000-4000-8000-000000000000","UserAttributes":[{"Name":"email","Value":"someone@example.com"},{"Name":"email_verified","Value":"true"}]}`
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, answer)
	})}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// signOp is the RSA floor: one RS256 signature (PKCS #1 v1.5, SHA-256) of
// a token-sized digest with the pool's key.
func signOp(key *rsa.PrivateKey) opFunc {
	digest := sha256.Sum256([]byte("cognate loadgen signing floor"))
	return func(context.Context, *worker) error {
		_, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
		return err
	}
}

// expect turns a response without want in it into an error.
func expect(resp []byte, err error, what, want string) error {
	if err != nil {
		return err
	}
	if !bytes.Contains(resp, []byte(want)) {
		return fmt.Errorf("%s: answer has no %s: %s", what, want, truncate(string(resp), 200))
	}
	return nil
}

// refreshTokenOf finds "RefreshToken":"…" without a full decode (the
// value is base64url: no escapes).
func refreshTokenOf(body []byte) (string, bool) {
	const key = `"RefreshToken":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j <= 0 {
		return "", false
	}
	return string(rest[:j]), true
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
