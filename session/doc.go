// Package session is a session layer for Go server-rendered apps signed
// in with an Amazon Cognito user pool, with Cognate, or with another OIDC
// issuer. It does for a net/http server what @aws-amplify/adapter-nextjs
// does for Next.js (same cookie names and encodings, same refresh rules),
// and is built so that the failure modes of that adapter cannot occur.
// It talks to the issuer over HTTP only: the Cognito JSON API, the OAuth
// endpoints and the JWKS.
//
//	m, err := session.New(session.Config{
//		UserPoolID: "us-east-1_abc", ClientID: "…",
//		OAuthDomain: "https://auth.example.com", Origin: "https://app.example.com",
//	})
//	mux.Handle(m.Config().MountPath, m.Handler())        // /api/auth/…
//	mux.Handle("/dashboard", m.Require(dashboard))
//	http.ListenAndServe(addr, m.Middleware(mux))
//
// # Two modes
//
// ModeServer (the default) is server-side auth. The routes under
// MountPath sign users in through the pool's hosted pages (authorization
// code with PKCE S256) or, with POST <mount>password, with a password the
// server checks by SRP, and every token cookie is HttpOnly, so page
// scripts never see a token. Scripts that need one (for example to open
// an AppSync Events WebSocket) ask GET <mount>token, which answers
// same-origin requests carrying TokenHeader only.
//
// ModeClient is for pages that run aws-amplify with ssr: true: the
// browser signs in and writes the cookies itself; the server reads them,
// refreshes them when due and writes them back in Amplify's own format,
// never HttpOnly, so Amplify in the page keeps seeing a valid session.
//
// Either way the cookies are Amplify's:
// CognitoIdentityServiceProvider.<clientId>.LastAuthUser holds the
// username and CognitoIdentityServiceProvider.<clientId>.<username>.
// accessToken, .idToken, .refreshToken, .clockDrift and .signInDetails
// the rest, with js-cookie's name and value encodings (so "a@b.com"
// appears as a%40b.com in names). The username is the access token's
// username claim.
//
// # Per request
//
// Middleware reads the cookies once per request (the Cookie header is
// parsed here, keeping every duplicate; net/http's parser drops names
// that js-cookie writes), verifies the access and id tokens (RS256
// against the JWKS, issuer, client, token_use, expiry with ClockSkew;
// verified tokens are cached until they expire, and a Cookie header seen
// before with a session not yet due for refresh is answered from memory:
// about 1 µs per request) and puts the user in the request context:
// FromContext. Tokens that expire within RefreshBefore
// (5 s, plus the clockDrift cookie) are refreshed before the handler
// runs, so handlers never set cookies; the refreshed cookies go out with
// Cache-Control: private, no-store. Refresh does the same on demand and
// returns ErrHeadersWritten once the response has started.
//
// A reverse proxy in front of another app (cognate gateway) forwards
// ForwardCookieHeader instead of the browser's Cookie header, so that the
// app sees the tokens the Middleware settled on, refreshed ones included.
//
// One refresh per refresh token runs at a time in the process; requests
// with the same session wait for it. Its outcome is remembered for 30 s,
// so requests already on their way with the old cookies get the new
// tokens without spending a rotated refresh token twice.
//
// # Cookie policy
//
// Every token cookie written (sign-in, refresh) or deleted (sign-out, a
// dead session, a forged cookie) goes through Config.Cookies: Domain,
// Path (default /), SameSite (Strict in ModeServer, Lax in ModeClient),
// MaxAge (365 days), Secure (from the Origin's scheme unless set) and
// HttpOnly (ModeServer). Each write and delete also expires the
// host-only variant and every LegacyDomains × LegacyPaths variant, so
// copies left by an older deployment or a client CookieStorage with
// other attributes cannot survive a sign-out or loop. When the same name
// arrives more than once, the copy that verifies (the newest) wins and is
// rewritten through the policy, which expires the others; duplicated
// refresh tokens are tried in turn at the next refresh.
//
// In ModeServer a token too big for one cookie (name + value over 4000
// bytes, e.g. an id token with many custom claims) is stored as
// <name> = "%chunks:<n>" and <name>.0 … <name>.<n-1>, joined on read;
// chunks left over from a longer token are ignored and expired.
//
// Cookies of the routes themselves (the per-flow state of a hosted
// sign-in, the CSRF token, a pending challenge) are host-only, Path=/,
// HttpOnly, and named with the __Host- prefix on https origins.
//
// # Failure policy
//
//   - A token that fails verification for any reason but expiry (bad
//     signature, alg none or HS256, unknown key, other issuer, client or
//     token_use, malformed), an oversized cookie (over 4096 bytes, or over
//     64 KiB for all of a client's cookies) or an undecodable one: the
//     request is signed out and those cookies are expired. Nothing is
//     ever refreshed with a token that did not verify.
//   - The JWKS cannot be fetched: signed out for that request, cookies
//     kept.
//   - The issuer cannot be reached, or answers 5xx or throttles: the
//     cookies are kept and the session is served until its tokens really
//     expire (then the request is signed out, cookies still kept); the
//     next request tries again.
//   - The issuer says the session is over (NotAuthorizedException,
//     TokenRevokedException, UserNotFoundException,
//     PasswordResetRequiredException, UserNotConfirmedException,
//     RefreshTokenReuseException, invalid_grant): every token cookie is
//     expired, in every variant, once, and the request goes on signed out.
//
// Require redirects signed-out page requests to the sign-in route and
// answers script requests with 401 JSON; the sign-in route sends a user
// back only when the session is valid, so the two cannot loop.
//
// # Hosted sign-in and sign-out
//
// GET <mount>sign-in (and sign-up) accept ?redirect=<same-origin path>,
// ?lang= and ?provider= (google, facebook, amazon, apple or a provider
// name). The state is bound to a per-flow cookie (SameSite=Lax, 5
// minutes; several tabs can sign in at once). The callback verifies the
// tokens, writes them and answers with a small page that navigates to the
// target, because SameSite=Strict cookies are not sent on a redirect
// chain that began on the issuer's site. GET <mount>sign-out revokes the
// refresh token, clears every token cookie and sends the browser to the
// pool's /logout (whose logout_uri, <origin><mount>sign-out-callback,
// must be registered); a sign-out that the browser says another site
// started gets a confirmation form instead.
//
// # Password sign-in
//
// POST <mount>password takes username, password, csrf (CSRFToken) and
// redirect fields, signs in with SRP and lands on redirect; failures go
// back to the form page with ?error=<AuthError.Code>. When the pool asks
// for another step (NEW_PASSWORD_REQUIRED, an MFA code) the browser is
// sent to Config.ChallengePath (default: a built-in page at
// <mount>challenge) with the challenge sealed (AES-GCM) in a 3-minute
// HttpOnly cookie; PendingChallenge reads it and POST <mount>challenge
// answers it. Apps with their own handlers call SignInWithPassword and
// RespondToChallenge directly.
package session
