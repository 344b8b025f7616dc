// Amplify's signInWithRedirect in a real Chromium: a page bundling
// aws-amplify 6.22.1 (esbuild), served over HTTPS by this test, sends the
// user to Cognate's hosted login page; on return Amplify redeems the code
// (PKCE, a cross-origin fetch to /oauth2/token) and fetchAuthSession has
// the user's tokens. Then Amplify's signOut goes through /logout.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  PASSWORD, POOL_ID, bundleForBrowser, createUser, launchBrowser, newContext, scenario, screenshotPrefix, serveHttps,
  shot, startServer, toHostedPage,
} from './harness.mjs';

screenshotPrefix('amplify');

const CLIENT = 'amplifyapp';
const EMAIL = 'amplify-user@example.com';
const SCOPES = ['openid', 'email', 'profile', 'aws.cognito.signin.user.admin'];

let server;
let app;
let browser;
let page;
let bundle = '';
let sub;
const calls = [];
const callsTo = (path, method) => calls.filter((c) => c.path === path && (!method || c.method === method));

// The app: Amplify configured for the hosted UI, a button for each action,
// and everything a test needs to read on window.
const ENTRY = `
import { Amplify } from 'aws-amplify';
import { fetchAuthSession, fetchUserAttributes, getCurrentUser, signInWithRedirect, signOut } from 'aws-amplify/auth';
import 'aws-amplify/auth/enable-oauth-listener';
import { Hub } from 'aws-amplify/utils';

const status = (text) => { document.getElementById('status').textContent = text; };
window.__hub = [];
Hub.listen('auth', ({ payload }) => {
  const error = payload.data && payload.data.error;
  window.__hub.push({
    event: payload.event,
    data: typeof payload.data === 'string' ? payload.data : null,
    error: error ? String(error.name || '') + ': ' + String(error.message || error) : null,
  });
  if (payload.event === 'signInWithRedirect') status('signed in');
  if (payload.event === 'signInWithRedirect_failure') status('sign-in failed: ' + (error && error.message));
  if (payload.event === 'signedOut') status('signed out');
});
Amplify.configure(window.__AMPLIFY_CONFIG__);

const tokens = (s) => s.tokens ? {
  access: s.tokens.accessToken.toString(),
  accessPayload: s.tokens.accessToken.payload,
  idPayload: s.tokens.idToken ? s.tokens.idToken.payload : null,
  userSub: s.userSub,
} : null;
window.__api = {
  session: async (forceRefresh = false) => tokens(await fetchAuthSession({ forceRefresh })),
  user: async () => { const u = await getCurrentUser(); return { username: u.username, userId: u.userId, signInDetails: u.signInDetails || null }; },
  attributes: () => fetchUserAttributes(),
  redirect: (input) => { signInWithRedirect(input).catch((e) => { window.__error = String(e); status('error: ' + e); }); },
};
document.getElementById('login').addEventListener('click', () => {
  signInWithRedirect().catch((e) => { window.__error = String(e); status('error: ' + e); });
});
document.getElementById('logout').addEventListener('click', () => {
  signOut().catch((e) => { window.__error = String(e); status('error: ' + e); });
});
window.__ready = true;
if (document.getElementById('status').textContent === 'loading') status('ready');
`;

function indexHTML() {
  const config = {
    Auth: {
      Cognito: {
        userPoolId: POOL_ID,
        userPoolClientId: CLIENT,
        userPoolEndpoint: server.https,
        loginWith: {
          oauth: {
            domain: `localhost:${server.tlsPort}`,
            scopes: SCOPES,
            redirectSignIn: [`${app.url}/`],
            redirectSignOut: [`${app.url}/`],
            responseType: 'code',
          },
        },
      },
    },
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Amplify app</title>
<style>body{font-family:sans-serif;margin:2rem}button{font-size:1rem;padding:.5rem 1rem;margin:.25rem}</style>
<script>window.__AMPLIFY_CONFIG__ = ${JSON.stringify(config)};</script>
<script type="module" src="/app.js"></script></head>
<body><h1>Amplify app</h1><p id="status">loading</p>
<button id="login">Sign in with the hosted UI</button><button id="logout">Sign out</button></body></html>`;
}

before(async () => {
  server = await startServer({
    extraPorts: 1,
    config: ({ ports }) => ({
      UserPools: [{
        Id: POOL_ID,
        PoolName: 't',
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        Clients: [{
          ClientId: CLIENT,
          ClientName: 'Amplify app',
          AllowedOAuthFlowsUserPoolClient: true,
          AllowedOAuthFlows: ['code'],
          AllowedOAuthScopes: SCOPES,
          CallbackURLs: [`https://localhost:${ports[0]}/`],
          LogoutURLs: [`https://localhost:${ports[0]}/`],
          ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }],
      }],
    }),
  });
  app = await serveHttps({
    port: server.ports[0],
    cert: server.cert,
    key: server.key,
    handler: (req, res) => {
      const { pathname } = new URL(req.url, 'https://localhost');
      if (pathname === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
        res.end(bundle);
      } else if (pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(indexHTML());
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      }
    },
  });
  browser = await launchBrowser(server.spki);
  const context = await newContext(browser);
  page = await context.newPage();
  page.on('pageerror', (err) => process.stderr.write(`[page error] ${err.message}\n`));
  // What the page sent to the server, for the checks below.
  page.on('response', async (res) => {
    const req = res.request();
    if (!req.url().startsWith(server.https)) return;
    calls.push({
      method: req.method(),
      path: new URL(req.url()).pathname,
      target: (await req.headerValue('x-amz-target').catch(() => null)) ?? null,
      origin: (await req.headerValue('origin').catch(() => null)) ?? null,
      status: res.status(),
      navigation: req.isNavigationRequest(),
    });
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await app?.close();
  await server?.stop();
});

const step = scenario({ pages: () => [page], server: () => server });

step('bundle aws-amplify for the browser with esbuild', async () => {
  bundle = await bundleForBrowser(ENTRY);
  assert.ok(bundle.length > 10_000, `bundle is ${bundle.length} bytes`);
}, { timeout: 120_000 });

step('a user exists (AdminCreateUser + AdminSetUserPassword)', async () => {
  sub = await createUser(server, EMAIL, PASSWORD);
});

step('the app loads over HTTPS and Amplify configures', async () => {
  await page.goto(`${app.url}/`);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
  await shot(page, 'app-ready');
  assert.equal(await page.evaluate(() => window.__api.session()), null, 'tokens before signing in');
});

step('signInWithRedirect goes to the hosted login page with PKCE', async () => {
  await toHostedPage(page, server, '/login', () => page.click('#login'));
  await shot(page, 'hosted-login');
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('client_id'), CLIENT);
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('redirect_uri'), `${app.url}/`);
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual((q.get('scope') ?? '').split(' ').sort(), [...SCOPES].sort());
  assert.ok(q.get('state'), 'state');
});

step('signing in returns to the app and Amplify completes the exchange', async () => {
  await page.fill('input[name=username]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL((u) => u.origin === app.url, { timeout: 15_000 }), page.click('#signin')]);
  await page.waitForFunction(
    () => (window.__hub || []).some((e) => e.event === 'signInWithRedirect' || e.event === 'signInWithRedirect_failure'),
    null, { timeout: 20_000 },
  );
  await shot(page, 'app-signed-in');
  const hub = await page.evaluate(() => window.__hub);
  const failure = hub.find((e) => e.event === 'signInWithRedirect_failure');
  assert.equal(failure, undefined, `Amplify reported ${JSON.stringify(failure)}; Hub events ${JSON.stringify(hub)}`);
  assert.ok(hub.some((e) => e.event === 'signedIn'), `no signedIn event: ${JSON.stringify(hub)}`);
  // Amplify redeemed the code itself: a cross-origin POST from the app.
  const exchanges = callsTo('/oauth2/token', 'POST');
  assert.equal(exchanges.length, 1, `POSTs to /oauth2/token: ${JSON.stringify(exchanges)}`);
  assert.equal(exchanges[0].status, 200);
  assert.equal(exchanges[0].origin, app.url, 'the exchange came from the app origin (CORS)');
});

step('fetchAuthSession has the user\'s tokens', async () => {
  const s = await page.evaluate(() => window.__api.session());
  assert.ok(s, 'no tokens after signInWithRedirect');
  assert.equal(s.accessPayload.username, sub, 'access token username is the sub');
  assert.equal(s.accessPayload.client_id, CLIENT);
  assert.equal(s.accessPayload.token_use, 'access');
  assert.equal(s.accessPayload.iss, `${server.https}/${POOL_ID}`);
  assert.deepEqual(s.accessPayload.scope.split(' ').sort(), [...SCOPES].sort());
  assert.equal(s.userSub, sub);
  assert.equal(s.idPayload.email, EMAIL);
  assert.equal(s.idPayload.aud, CLIENT);
  const u = await page.evaluate(() => window.__api.user());
  assert.equal(u.username, sub);
  assert.equal(u.userId, sub);
});

step('the app no longer shows the code in its URL', async () => {
  const u = new URL(page.url());
  assert.equal(u.searchParams.get('code'), null, `URL ${page.url()}`);
}, { soft: true });

step('the OAuth access token works with the Cognito API from the page (fetchUserAttributes)', async () => {
  const attrs = await page.evaluate(() => window.__api.attributes());
  assert.equal(attrs.email, EMAIL);
  assert.equal(attrs.sub, sub);
}, { soft: true });

step('fetchAuthSession({forceRefresh:true}) refreshes from the page', async () => {
  const before = await page.evaluate(() => window.__api.session());
  const s = await page.evaluate(() => window.__api.session(true));
  assert.ok(s, 'no tokens after a forced refresh');
  assert.notEqual(s.accessPayload.jti, before.accessPayload.jti, 'the access token was not renewed');
  assert.equal(s.accessPayload.auth_time, before.accessPayload.auth_time);
  assert.equal(s.accessPayload.username, sub);
}, { soft: true });

/** Forgets Amplify's tokens in the page (the hosted session cookie stays) and reloads. */
async function forgetLocally() {
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.__api.session()), null, 'tokens after clearing storage');
}

/** Waits for Amplify to finish a redirect sign-in and returns the Hub events. */
async function redirectDone() {
  await page.waitForURL((u) => u.origin === app.url, { timeout: 15_000 });
  await page.waitForFunction(
    () => (window.__hub || []).some((e) => e.event === 'signInWithRedirect' || e.event === 'signInWithRedirect_failure'),
    null, { timeout: 20_000 },
  );
  const hub = await page.evaluate(() => window.__hub);
  const failure = hub.find((e) => e.event === 'signInWithRedirect_failure');
  assert.equal(failure, undefined, `Amplify reported ${JSON.stringify(failure)}`);
  return hub;
}

step('a second signInWithRedirect rides the hosted session (no password)', async () => {
  await forgetLocally();
  const mark = calls.length;
  await Promise.all([page.waitForURL((u) => u.origin === server.https, { timeout: 15_000 }).catch(() => {}), page.click('#login')]);
  await redirectDone();
  await shot(page, 'app-signed-in-from-session');
  const logins = calls.slice(mark).filter((c) => c.path === '/login');
  assert.equal(logins.length, 0, `the login page was shown: ${JSON.stringify(logins)}`);
  const s = await page.evaluate(() => window.__api.session());
  assert.equal(s?.accessPayload.username, sub);
});

step('signInWithRedirect({options: {prompt: "LOGIN"}}) shows the login page despite the session', async () => {
  await forgetLocally();
  await toHostedPage(page, server, '/login', () => page.evaluate(() => window.__api.redirect({ options: { prompt: 'LOGIN' } })));
  assert.equal(new URL(page.url()).searchParams.get('prompt'), 'login');
  await shot(page, 'hosted-login-prompt-login');
  await page.fill('input[name=username]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('#signin');
  await redirectDone();
  assert.equal((await page.evaluate(() => window.__api.session()))?.accessPayload.username, sub);
}, { soft: true });

step('signOut goes through /logout and back; the hosted session is over', async () => {
  await Promise.all([
    page.waitForURL((u) => u.origin === server.https, { timeout: 15_000 }).catch(() => {}),
    page.click('#logout'),
  ]);
  await page.waitForURL((u) => u.origin === app.url, { timeout: 15_000 });
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
  await shot(page, 'app-signed-out');
  assert.equal(await page.evaluate(() => window.__api.session()), null, 'tokens after signOut');
  const logout = callsTo('/logout', 'GET').filter((c) => c.navigation);
  assert.equal(logout.length, 1, `navigations to /logout: ${JSON.stringify(logout)}`);
  assert.equal(logout[0].status, 302);
  const revoke = calls.filter((c) => c.target?.endsWith('.RevokeToken'));
  assert.ok(revoke.length === 1 && revoke[0].status === 200, `RevokeToken calls: ${JSON.stringify(revoke)}`);
  // Signing in again asks for the password.
  await toHostedPage(page, server, '/login', () => page.click('#login'));
  await shot(page, 'hosted-login-after-signout');
});

step('signInWithRedirect with customState, lang, loginHint and nonce', async () => {
  await page.goto(`${app.url}/`);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
  await toHostedPage(page, server, '/login', () => page.evaluate((email) => window.__api.redirect({
    customState: 'return-to=/orders/42', options: { lang: 'fr', loginHint: email, nonce: 'nonce-from-app-123' },
  }), EMAIL));
  await shot(page, 'hosted-login-fr-hint');
  assert.match(await page.getAttribute('html', 'lang') ?? '', /^fr/, 'lang=fr');
  assert.equal(await page.inputValue('input[name=username]'), EMAIL, 'login_hint fills the username');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('#signin');
  const hub = await redirectDone();
  const custom = hub.find((e) => e.event === 'customOAuthState');
  assert.ok(custom, `no customOAuthState event: ${JSON.stringify(hub)}`);
  assert.equal(custom.data, 'return-to=/orders/42');
  const s = await page.evaluate(() => window.__api.session());
  assert.equal(s?.idPayload?.nonce, 'nonce-from-app-123', 'the id token carries the nonce');
}, { soft: true });
