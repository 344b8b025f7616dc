// The demo's client mode in a real Chromium: the real aws-amplify
// (bundled here with esbuild, served by `cognate serve --demo-client-bundle`)
// signs in with SRP in the /amplify/ page and, with ssr: true, writes its
// cookies itself; the Go-rendered /amplify/me page reads the same cookies.
// With short-lived tokens (--token-lifetime) the Go server refreshes them
// and writes them back (rotated refresh token included) under Amplify's
// names, and Amplify in the page keeps seeing a valid session: first the
// server's tokens as they are, then a refresh of its own with the refresh
// token the server rotated.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import { DescribeUserPoolClientCommand, UpdateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';

import {
  PASSWORD, adminClient, bundleForBrowser, createUser, decodeJwt, scenario, screenshotPrefix, shot, waitForPath,
} from './harness.mjs';
import { clientCookies, cookieValue, openDemo, tokensIn, waitPastExpiry } from './demo.mjs';

screenshotPrefix('demo-amplify');

// Amplify treats a token as expired 5 s before its exp, and so does the
// session library: 15 s leaves time to look at the server's tokens in the
// page before Amplify would refresh them itself.
const TOKEN_LIFETIME = '15s';
const EMAIL = `amplify-${Date.now().toString(36)}@example.com`;

// The bundle's contract with the demo page (demo/README.md): a classic
// script defining window.cognateAmplify; configure must pass ssr: true.
const ENTRY = `
import { Amplify } from 'aws-amplify';
import { fetchAuthSession, signIn, signOut } from 'aws-amplify/auth';

window.cognateAmplify = {
  configure: (cfg) => Amplify.configure(cfg, { ssr: true }),
  signIn: (username, password) => signIn({ username, password }),
  signOut: () => signOut(),
  fetchAuthSession: (options) => fetchAuthSession(options),
};
`;

let bundleDir;
let opened;
let server;
let demo;
let context;
let page;
let nav;
let webClient;
let demoClient;
let sub;
const calls = []; // the page's calls to the Cognito JSON API

before(async () => {
  bundleDir = await mkdtemp(path.join(os.tmpdir(), 'cognate-amplify-bundle-'));
  await writeFile(path.join(bundleDir, 'app.js'), await bundleForBrowser(ENTRY, { format: 'iife', minify: true }));
  opened = await openDemo({ args: ['--token-lifetime', TOKEN_LIFETIME, '--demo-client-bundle', bundleDir] });
  ({ server, demo, context, page, nav, clientId: demoClient } = opened);
  webClient = server.outputs.auth.user_pool_client_id;
  page.on('console', (msg) => { if (msg.type() === 'error') process.stderr.write(`[console] ${msg.text()}\n`); });
  // Recorded when sent (so no call is missed), completed when answered; settled() waits for the answers.
  page.on('request', (req) => {
    if (!req.url().startsWith(server.https)) return;
    let body = null;
    try {
      body = req.postDataJSON();
    } catch { /* not JSON */ }
    calls.push({ req, target: (req.headers()['x-amz-target'] ?? '').replace(/^.*\./, ''), body, origin: null, status: null });
  });
  page.on('response', async (res) => {
    const hit = calls.find((c) => c.req === res.request());
    if (!hit) return;
    hit.origin = (await res.request().headerValue('origin').catch(() => null)) ?? null;
    hit.status = res.status();
  });
  page.on('requestfailed', (req) => {
    const hit = calls.find((c) => c.req === req);
    if (hit) hit.status = `failed: ${req.failure()?.errorText}`;
  });
});

after(async () => {
  await opened?.close();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

const step = scenario({ pages: () => [page], server: () => server });
const cookies = async () => context.cookies();
const webTokens = async () => tokensIn(await cookies(), webClient);
const refreshCalls = (from) => calls.slice(from).filter((c) => c.target === 'GetTokensFromRefreshToken'
  || (c.target === 'InitiateAuth' && /REFRESH_TOKEN/.test(c.body?.AuthFlow ?? '')));
const show = (list) => JSON.stringify(list.map(({ req, ...c }) => c));

/** Waits until every recorded call has its answer. */
async function settled(timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (calls.some((c) => c.status === null) && Date.now() < deadline) await page.waitForTimeout(50);
}
/** Amplify's session in the page: the access token and its payload. */
const amplifySession = () => page.evaluate(async () => {
  const s = await window.cognateAmplify.fetchAuthSession();
  const a = s.tokens?.accessToken;
  return a ? { access: a.toString(), payload: a.payload, id: s.tokens.idToken?.toString() ?? null } : null;
});

/** Amplify cookies as Amplify writes them with ssr: true (and the server in client mode): readable by scripts, Lax, Path=/. */
function checkClientModeCookies(list, user) {
  const problems = [];
  for (const c of clientCookies(list, webClient)) {
    if (c.httpOnly) problems.push(`${c.name} is HttpOnly: Amplify in the page could not read it`);
    if (c.sameSite !== 'Lax') problems.push(`${c.name} is SameSite=${c.sameSite}, want Lax`);
    if (c.path !== '/') problems.push(`${c.name} has Path=${c.path}`);
  }
  for (const k of ['accessToken', 'idToken', 'refreshToken']) {
    if (!clientCookies(list, webClient).some((c) => c.key === `${user}.${k}`)) problems.push(`no ${k} cookie`);
  }
  assert.deepEqual(problems, [], problems.join('\n'));
}

step('a user exists (AdminCreateUser + AdminSetUserPassword)', async () => {
  sub = await createUser(server, EMAIL, PASSWORD);
});

step('the web client rotates refresh tokens (UpdateUserPoolClient: off by default, as in Cognito)', async () => {
  const api = adminClient(server);
  const ids = { UserPoolId: server.outputs.auth.user_pool_id, ClientId: webClient };
  const { UserPoolClient: c } = await api.send(new DescribeUserPoolClientCommand(ids));
  assert.equal(c.RefreshTokenRotation?.Feature ?? 'DISABLED', 'DISABLED', 'the default web client does not rotate');
  // UpdateUserPoolClient resets what it is not given: send the client back whole.
  const keep = ['ClientName', 'RefreshTokenValidity', 'AccessTokenValidity', 'IdTokenValidity', 'TokenValidityUnits',
    'ReadAttributes', 'WriteAttributes', 'ExplicitAuthFlows', 'SupportedIdentityProviders', 'CallbackURLs', 'LogoutURLs',
    'DefaultRedirectURI', 'AllowedOAuthFlows', 'AllowedOAuthScopes', 'AllowedOAuthFlowsUserPoolClient',
    'PreventUserExistenceErrors', 'EnableTokenRevocation', 'AuthSessionValidity'];
  const update = { ...ids, RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 10 } };
  for (const k of keep) if (c[k] !== undefined) update[k] = c[k];
  await api.send(new UpdateUserPoolClientCommand(update));
});

step('the /amplify/ page loads the bundle, configures Amplify from #amplify-config, and is signed out', async () => {
  const res = await page.goto(`${demo}/amplify/`);
  assert.equal(res.status(), 200);
  await page.waitForSelector('[data-testid=amplify-status][data-state=signed-out]', { timeout: 15_000 });
  await shot(page, 'amplify-signed-out');
  const cfg = JSON.parse(await page.textContent('#amplify-config'));
  assert.equal(cfg.Auth.Cognito.userPoolId, server.outputs.auth.user_pool_id);
  assert.equal(cfg.Auth.Cognito.userPoolClientId, webClient);
  assert.equal(cfg.Auth.Cognito.userPoolEndpoint, server.https);
  assert.ok(await page.isVisible('#amplify-sign-in-form'), 'the sign-in form is shown');
});

step('Amplify signs in with SRP in the page; /amplify/me (Go) shows that user', async () => {
  const mark = calls.length;
  await page.fill('#amplify-username', EMAIL);
  await page.fill('#amplify-password', PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/amplify/me', { timeout: 20_000 }),
    page.click('#amplify-sign-in'),
  ]).catch(async (err) => {
    const msg = await page.textContent('#amplify-error').catch(() => '');
    throw new Error(`no /amplify/me after sign-in (page error: ${msg}; calls ${show(calls.slice(mark))}): ${err.message}`);
  });
  await settled();
  const srp = calls.slice(mark);
  const initiate = srp.find((c) => c.target === 'InitiateAuth');
  assert.equal(initiate?.body?.AuthFlow, 'USER_SRP_AUTH', `calls: ${show(srp)}`);
  assert.equal(initiate.origin, demo, 'the page calls the pool cross-origin');
  const verifier = srp.find((c) => c.target === 'RespondToAuthChallenge');
  assert.equal(verifier?.body?.ChallengeName, 'PASSWORD_VERIFIER');
  assert.equal(verifier.status, 200);
  await page.waitForSelector('[data-testid=amplify-me][data-state=signed-in]', { timeout: 5_000 });
  assert.equal((await page.textContent('[data-testid=amplify-me-email]')).trim(), EMAIL);
  assert.equal((await page.textContent('[data-testid=amplify-me-sub]')).trim(), sub);
  await page.waitForSelector('[data-testid=amplify-status][data-state=signed-in]', { timeout: 10_000 });
  assert.equal((await page.textContent('[data-testid=amplify-client-user]')).trim(), sub);
  await shot(page, 'amplify-me-signed-in');
});

step('the cookies are Amplify\'s, written by Amplify in the page', async () => {
  const list = await cookies();
  const t = tokensIn(list, webClient);
  assert.equal(t.user, sub, 'LastAuthUser');
  checkClientModeCookies(list, t.user);
  assert.equal(decodeJwt(t.access).client_id, webClient);
  assert.deepEqual(clientCookies(list, demoClient), [], 'no HttpOnly-mode cookies');
  const s = await amplifySession();
  assert.equal(s?.access, t.access, 'Amplify reads what is in the cookies');
});

let serverRefreshed;
step('the token expires; /amplify/me refreshes on the server and rewrites Amplify\'s cookies (rotated refresh token)', async () => {
  const before = await webTokens();
  await waitPastExpiry(before.access);
  const mark = calls.length;
  const navMark = nav.mark();
  const res = await page.goto(`${demo}/amplify/me`);
  assert.equal(res.status(), 200);
  assert.equal(nav.since(navMark).length, 1, 'no redirect');
  await page.waitForSelector('[data-testid=amplify-me][data-state=signed-in]', { timeout: 5_000 });
  assert.equal((await page.textContent('[data-testid=amplify-me-email]')).trim(), EMAIL);
  const after = await webTokens();
  assert.equal(after.user, sub);
  assert.notEqual(after.access, before.access, 'the server wrote a new access token');
  assert.notEqual(after.refresh, before.refresh, 'rotation on: the server wrote the rotated refresh token');
  assert.ok(decodeJwt(after.access).exp * 1000 > Date.now());
  checkClientModeCookies(await cookies(), sub);
  await settled();
  assert.deepEqual(show(refreshCalls(mark)), '[]', 'the page did not refresh: the server did');
  serverRefreshed = after;
});

step('Amplify in the page sees the server\'s refreshed session, valid, without refreshing itself', async () => {
  const mark = calls.length;
  const s = await amplifySession();
  assert.ok(s, 'Amplify has no session after the server-side refresh');
  assert.equal(s.access, serverRefreshed.access, 'Amplify uses the tokens the server wrote');
  assert.ok(s.payload.exp * 1000 > Date.now(), 'not expired');
  assert.equal(s.payload.username, sub);
  await settled();
  assert.deepEqual(show(refreshCalls(mark)), '[]', 'Amplify did not refresh');
  await page.waitForSelector('[data-testid=amplify-status][data-state=signed-in]');
  await shot(page, 'amplify-me-after-server-refresh');
});

step('later, Amplify refreshes by itself with the refresh token the server rotated', async () => {
  // Past the access token's expiry and the old refresh token's 10 s grace:
  // only the rotated refresh token the server wrote can succeed now.
  await waitPastExpiry(serverRefreshed.access);
  const mark = calls.length;
  const s = await amplifySession();
  await settled();
  const refreshes = refreshCalls(mark);
  const drift = cookieValue(await cookies(), webClient, `${sub}.clockDrift`);
  assert.equal(refreshes.length, 1, `Amplify's refresh calls: ${show(refreshes)}; its session: ` +
    `${s ? `access token exp ${new Date(s.payload.exp * 1000).toISOString()} (now ${new Date().toISOString()}), ` +
      `${s.access === serverRefreshed.access ? 'the server\'s token' : 'another token'}` : 'none'}; clockDrift cookie ${drift}; ` +
    `calls ${JSON.stringify(calls.slice(mark).map((c) => `${c.target} ${c.status}`))}`);
  assert.equal(refreshes[0].status, 200, `Amplify's refresh: ${show([refreshes[0]])}`);
  assert.ok(s, 'Amplify lost the session');
  assert.notEqual(s.access, serverRefreshed.access);
  assert.ok(s.payload.exp * 1000 > Date.now());
  const t = await webTokens();
  assert.equal(t.access, s.access, 'Amplify wrote its new tokens to the cookies');
  // And the server reads what Amplify wrote.
  await page.goto(`${demo}/amplify/me`);
  await page.waitForSelector('[data-testid=amplify-me][data-state=signed-in]', { timeout: 5_000 });
  assert.equal((await webTokens()).access, s.access, 'the server kept Amplify\'s fresh token');
});

step('signing out in Amplify removes the cookies; /amplify/me is signed out', async () => {
  await page.goto(`${demo}/amplify/`);
  await page.waitForSelector('[data-testid=amplify-status][data-state=signed-in]', { timeout: 10_000 });
  await shot(page, 'amplify-signed-in');
  const mark = calls.length;
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load', timeout: 15_000 }),
    page.click('#amplify-sign-out'),
  ]);
  await waitForPath(page, '/amplify/', { origin: demo });
  await page.waitForSelector('[data-testid=amplify-status][data-state=signed-out]', { timeout: 10_000 });
  await settled();
  const revoke = calls.slice(mark).filter((c) => c.target === 'RevokeToken');
  assert.ok(revoke.length === 1 && revoke[0].status === 200, `RevokeToken: ${show(revoke)}`);
  const left = clientCookies(await cookies(), webClient).filter((c) => !c.key.endsWith('.deviceKey'));
  assert.deepEqual(left.map((c) => c.name), []);
  await page.goto(`${demo}/amplify/me`);
  await page.waitForSelector('[data-testid=amplify-me][data-state=signed-out]');
  await shot(page, 'amplify-me-signed-out');
});
