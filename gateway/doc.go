// Package gateway is the session library (package session) as a reverse
// proxy: put it in front of any app (Next.js, Remix, Rails, Django) and
// the app gets verified, refreshed Amplify sessions without touching its
// code. It talks to the issuer over HTTP only, so it works in front of
// Cognate and of an Amazon Cognito user pool alike.
//
// Per request, before the app sees it:
//
//   - the session is resolved and, when due, refreshed once per refresh
//     token in the process (rotation-safe: session's single flight and
//     30 s memo); the refreshed cookies go to the browser, and the Cookie
//     header forwarded to the app is rewritten with the same fresh tokens
//     (session.Manager.ForwardCookieHeader), so an Amplify adapter in the
//     app reads tokens that are valid and never refreshes them itself;
//   - every identity header a client sent (IdentityPrefix*, x-amzn-oidc-*,
//     and the names other auth proxies use) is removed, whatever its case
//     or '_' spelling, and the gateway's own are set from the verified
//     session: User, Sub, Email, Groups (and Access-Token, Id-Token with
//     PassTokens; the ALB headers with ALBHeaders);
//   - the route policy (Rules: public, session, group; longest path
//     prefix wins) answers signed-out page navigations with a redirect to
//     sign-in, scripts with 401 JSON, and non-members with 403.
//
// The session routes (sign-in, sign-up, sign-in-callback, sign-out,
// sign-out-callback, token, password, challenge) are served at the
// session's MountPath, /_gateway/health and /_gateway/ready (the issuer's
// JWKS is reachable) and, with ALB headers, the signing keys under
// /_gateway/alb/ on the same listener. Responses stream (WebSocket
// upgrades, server-sent events, React Server Components) with no
// buffering; an app that cannot be reached gets a 502 page (JSON for
// scripts) at once. Any response on which the gateway sets a cookie is
// Cache-Control: private, no-store.
//
// In BFF mode (Config.BFF) the browser holds one opaque HttpOnly session
// cookie and the tokens stay in a store (package bffstore: an SQLite file,
// or Redis or PostgreSQL shared by several gateway nodes), sealed under a
// key from the gateway's secret and found by the SHA-256 of the session
// id. The tokens' size no longer meets the 4 KB cookie limit, and a
// refresh runs under the store's lock, so nodes sharing a store refresh a
// session once.
package gateway
