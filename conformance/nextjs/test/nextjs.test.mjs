// examples/nextjs, built once with `next build` against a fresh `cognate
// serve` and run with `next start`, in Debian's Chromium: client-side
// sign-up and SRP sign-in, the proxy's refresh, Server Components across
// expiry and refresh-token rotation, the events panel, sign-out. Then the
// same build behind `cognate gateway` (client mode): one refresh for many
// parallel requests, the rotated tokens in the browser and in the render,
// the gateway's token route for the events panel, stale cookie variants
// expired at sign-out, forged identity headers stripped. Last, the same
// build for server-side auth (createAuthRouteHandlers, another app client):
// the managed login, HttpOnly token cookies, sign-out that revokes.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import {
  captureOutput, outboxSnapshot, pollUntil, scenarioSteps, startCognate, waitForMessage, waitForTLS,
} from '../../lib/cognate.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXAMPLE = path.resolve(HERE, '..', '..', '..', 'examples', 'nextjs');
const ARTIFACTS = path.resolve(HERE, '..', 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const POOL_ID = 'us-east-1_NextJs123';
const CLIENT_ID = 'nextjsexample';
const TOKEN_SECONDS = 20; // --token-lifetime
const MARGIN_SECONDS = 10; // the proxy refreshes this long before expiry
const GRACE_SECONDS = 3; // the client's RetryGracePeriodSeconds
const EMAIL = `next${Date.now()}@example.com`;
const PASSWORD = 'Correct-Horse-9';
const TOKEN_COOKIE = /^CognitoIdentityServiceProvider\./;
// The gateway's origin: a name under localhost (Chromium resolves it to the
// loopback, Node does not: Node uses 127.0.0.1), so that a cookie with
// Domain=app.localhost is another copy than the host-only one (Chromium
// reads Domain=localhost on localhost as host-only).
const GATEWAY_HOST = 'app.localhost';
const LEGACY_PATH = '/account'; // the gateway expires token cookies with this Path, and with Domain=GATEWAY_HOST
const PARALLEL = 20;
const SERVER_AUTH_CLIENT = 'nextjsserverauth'; // the code flow, for createAuthRouteHandlers

let cognate;
let tls;
let app; // next start: { url, proc, output, exited }
let appBehind; // next start behind the gateway (the same build)
let appServerAuth; // next start for server-side auth (the same build)
let gateway; // cognate gateway: { url, proc, output, exited, loopback (its URL for Node) }
let site; // where visit() goes: app, then gateway, then appServerAuth
let browser;
let page;
const amzTargets = []; // X-Amz-Target of every request the page sent, with its body

const step = scenarioSteps({
  timeout: 120_000,
  diagnose: async (t, name) => {
    if (page && !page.isClosed()) {
      await mkdir(ARTIFACTS, { recursive: true });
      const file = path.join(ARTIFACTS, `FAILED-${name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      t.diagnostic(`page at ${page.url()}, screenshot ${file}`);
    }
    for (const [label, p] of [['next', app], ['next behind the gateway', appBehind], ['gateway', gateway], ['next, server-side auth', appServerAuth]]) {
      if (p) for (const line of p.output().split('\n').slice(-30)) t.diagnostic(`[${label}] ${line}`);
    }
    if (cognate) for (const line of cognate.tail(20).split('\n')) t.diagnostic(`[cognate] ${line}`);
  },
});

after(async () => {
  await browser?.close();
  for (const p of [appServerAuth, gateway, appBehind, app]) {
    if (p?.proc.exitCode === null) {
      p.proc.kill('SIGTERM');
      await p.exited;
    }
  }
  await cognate?.stop();
});

/** Runs a command to completion, keeping its output for the error. */
function run(cmd, args, options) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    const output = captureOutput(proc, path.basename(cmd));
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${output()}`))));
  });
}

/** Starts a server process answering at url, killed when this process exits. */
function serve(label, url, cmd, args, options) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  process.on('exit', () => proc.kill('SIGKILL'));
  return { url, proc, output: captureOutput(proc, label), exited: new Promise((r) => proc.on('exit', r)) };
}

/** Polls GET url until it answers 200. */
async function until200(url, p) {
  await pollUntil(async () => (await fetch(url).catch(() => null))?.status === 200, {
    timeoutMs: 30_000, describe: () => `GET ${url}\n${p.output()}`,
  });
}

const nextBin = path.join(EXAMPLE, 'node_modules', '.bin', 'next');
const nextEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };

/** `next start` of the one build on port, with more environment. */
async function nextStart(label, port, env) {
  const p = serve(label, `http://localhost:${port}`, nextBin, ['start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: EXAMPLE, env: { ...nextEnv, ...env },
  });
  await until200(`${p.url}/sign-in`, p);
  return p;
}

/** Records the X-Amz-Target of every request p sends. */
function watch(p) {
  p.on('request', (r) => {
    const target = r.headers()['x-amz-target'];
    if (target) amzTargets.push({ op: target.split('.').pop(), body: r.postData() });
  });
}

/** The Cognito JSON API requests the page made for op since index from. */
const calls = (op, from = 0) => amzTargets.slice(from).filter((r) => r.op === op);

/** The server's counts of metric for label="value", by outcome (ok or the error), from its metrics. */
async function outcomes(metric, label, value) {
  const text = await (await fetch(`http://127.0.0.1:${cognate.ports[3]}/metrics`)).text();
  const counts = {};
  for (const m of text.matchAll(new RegExp(`^${metric}\\{${label}="([^"]+)",outcome="([^"]+)"\\} (\\d+)$`, 'gm'))) {
    if (m[1] === value) counts[m[2]] = Number(m[3]);
  }
  return counts;
}

/** The server's answers to a Cognito operation. */
const opCounts = (op) => outcomes('cognate_cognito_api_request_duration_seconds_count', 'operation', op);

const refreshCounts = () => opCounts('GetTokensFromRefreshToken');

/** The browser's Amplify cookies for the example's client, by the key's last part (accessToken, ...). */
async function tokenCookies() {
  const all = (await page.context().cookies()).filter((c) => TOKEN_COOKIE.test(c.name));
  return Object.fromEntries(all.map((c) => [decodeURIComponent(c.name).split('.').pop(), c]));
}

const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

/** Waits until the access token in the browser has expired by a second. */
async function pastExpiry() {
  const { exp } = claims((await tokenCookies()).accessToken.value);
  await sleep(Math.max(0, exp * 1000 + 1000 - Date.now()));
}

/** Navigates to path on the current site and returns the document's response. */
async function visit(pathname) {
  const res = await page.goto(`${site.url}${pathname}`);
  assert.ok(res, `no response for ${pathname}`);
  return res;
}

async function setCookieNames(res) {
  const header = (await res.headerValue('set-cookie')) ?? '';
  return header.split('\n').filter(Boolean).map((c) => decodeURIComponent(c.split('=')[0]));
}

step('cognate serve: a pool whose client rotates refresh tokens; tokens live 20 s', async () => {
  cognate = await startCognate({
    name: 'nextjs',
    ports: 7, // http, https (events), next start, metrics, next start behind the gateway, the gateway, next start for server-side auth
    args: ([http, https, , metrics]) => [
      '--public-url', `http://localhost:${http}`, '--tls-addr', `127.0.0.1:${https}`, '--demo-addr', 'off',
      '--metrics-addr', `127.0.0.1:${metrics}`, '--token-lifetime', `${TOKEN_SECONDS}s`,
    ],
    config: (ports) => ({
      UserPools: [{
        Id: POOL_ID, PoolName: 'nextjs-example', UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'],
        Clients: [{
          ClientId: CLIENT_ID, ClientName: 'web',
          ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
          RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: GRACE_SECONDS },
        }, {
          ClientId: SERVER_AUTH_CLIENT, ClientName: 'server-auth', ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
          AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: ['code'], AllowedOAuthScopes: ['openid', 'email', 'profile'],
          SupportedIdentityProviders: ['COGNITO'],
          CallbackURLs: [`http://localhost:${ports[6]}/api/auth/sign-in-callback`],
          LogoutURLs: [`http://localhost:${ports[6]}/api/auth/sign-out-callback`],
        }],
      }],
    }),
  });
  tls = await waitForTLS(cognate, `https://localhost:${cognate.ports[1]}`);
  const outputs = await cognate.waitForJson('amplify_outputs.json');
  assert.equal(outputs.auth.user_pool_client_id, CLIENT_ID);
  assert.deepEqual(outputs.custom.cognate, {
    user_pool_endpoint: `http://localhost:${cognate.ports[0]}`, issuer: `http://localhost:${cognate.ports[0]}/${POOL_ID}`,
  });
  assert.deepEqual(await refreshCounts(), {});
});

step('next build of examples/nextjs with these outputs', async () => {
  if (!existsSync(nextBin)) throw new Error(`${nextBin} is missing: run npm ci in ${EXAMPLE}`);
  // The outputs are bundled at build time; a developer's own file is put back after.
  const file = path.join(EXAMPLE, 'amplify_outputs.json');
  const own = existsSync(file) ? `${file}.before-conformance` : null;
  if (own) await rename(file, own);
  try {
    await writeFile(file, await readFile(path.join(cognate.dataDir, 'amplify_outputs.json')));
    await run(nextBin, ['build'], { cwd: EXAMPLE, env: nextEnv });
  } finally {
    await rm(file, { force: true });
    if (own) await rename(own, file);
  }
}, { timeout: 480_000 });

step('next start, and Chromium', async () => {
  app = await nextStart('next', cognate.ports[2], { REFRESH_MARGIN_SECONDS: String(MARGIN_SECONDS) });
  site = app;
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: make browser-deps (this suite never downloads a browser)`);
  // The events API is on Cognate's HTTPS listener: trust exactly its certificate's key.
  const spki = createHash('sha256').update(new X509Certificate(tls.cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--ignore-certificate-errors-spki-list=${spki}`],
  });
  page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
  watch(page);
});

step('sign-up in the browser, with the code from the outbox', async () => {
  await visit('/sign-up');
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  const before = await outboxSnapshot(cognate);
  await page.getByRole('button', { name: 'Create account' }).click();
  const { code } = await waitForMessage(cognate, { destination: EMAIL, kind: 'sign_up', exclude: before });
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForURL(`${app.url}/sign-in`);
  assert.equal(calls('SignUp').length, 1);
  assert.equal(calls('ConfirmSignUp').length, 1);
});

/** Signs in on the sign-in page of the current site; returns the response of the /protected page it lands on. */
async function signIn() {
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  const landed = page.waitForResponse((r) => r.url() === `${site.url}/protected` && r.request().isNavigationRequest());
  await page.getByRole('button', { name: 'Sign in' }).click();
  const res = await landed;
  await page.getByTestId('protected-user').waitFor();
  return res;
}

step('SRP sign-in in the browser; the proxy and a Server Component see the user', async () => {
  const from = amzTargets.length;
  const res = await signIn();
  assert.equal(await page.getByTestId('protected-user').textContent(), EMAIL);
  assert.match(calls('InitiateAuth', from)[0]?.body ?? '', /"AuthFlow":"USER_SRP_AUTH"/);
  assert.equal(calls('RespondToAuthChallenge', from).length, 1);
  // Fresh tokens (more than the margin left): the proxy let the request through untouched.
  assert.deepEqual(await setCookieNames(res), []);
  const cookies = await tokenCookies();
  for (const k of ['LastAuthUser', 'accessToken', 'idToken', 'refreshToken']) assert.ok(cookies[k], `no ${k} cookie`);
  assert.equal(claims(cookies.accessToken.value).iss, `http://localhost:${cognate.ports[0]}/${POOL_ID}`);

  const me = await visit('/api/me');
  const user = await me.json();
  assert.equal(me.status(), 200, JSON.stringify(user));
  assert.equal(user.UserAttributes.find((a) => a.Name === 'email')?.Value, EMAIL);
});

/** On /protected: the events panel goes live and shows a message it published. */
async function eventsRoundTrip() {
  await page.getByTestId('events-status').filter({ hasText: 'live' }).waitFor({ timeout: 15_000 });
  const text = `hello ${Date.now()}`;
  const received = page.getByTestId('events').getByText(text);
  // The subscription is acknowledged after 'live': send again until it is.
  await pollUntil(async () => {
    if (await received.count()) return true;
    await page.getByLabel('Message').fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
    return received.first().waitFor({ timeout: 2000 }).then(() => true, () => false);
  }, { timeoutMs: 15_000, describe: () => `"${text}" in the events panel` });
}

step("the events panel subscribes with the user's token and gets a message back", async () => {
  await visit('/protected');
  await eventsRoundTrip();
  await visit('/'); // nothing on the home page uses Amplify in the browser
});

let refreshed; // the cookies after the proxy's refresh

step('after the access token expires, the proxy refreshes: new cookies, no-store, the render already has them', async () => {
  const before = await tokenCookies();
  await pastExpiry();
  const res = await visit('/');
  assert.equal(await page.getByTestId('user').textContent(), `Signed in as ${EMAIL}`);
  const names = await setCookieNames(res);
  assert.ok(names.some((n) => n.endsWith('.accessToken')) && names.some((n) => n.endsWith('.refreshToken')), names.join());
  assert.equal(res.headers()['cache-control'], 'private, no-store');
  refreshed = await tokenCookies();
  assert.notEqual(refreshed.accessToken.value, before.accessToken.value);
  assert.notEqual(refreshed.refreshToken.value, before.refreshToken.value, 'rotation is on');
  // The Server Component rendered the token the proxy got, not the expired one.
  assert.equal(Number(await page.getByTestId('iat').textContent()), claims(refreshed.accessToken.value).iat);
  assert.deepEqual(await refreshCounts(), { ok: 1 });
});

step('Server Components past expiry and the rotation grace period: still signed in, never a reused refresh token', async () => {
  // Only '/', a Server Component with no Amplify call in the browser, so that
  // nothing but the proxy can store a refresh.
  for (let round = 0; round < 2; round++) {
    await pastExpiry();
    for (let i = 0; i < 3; i++) {
      if (i) await sleep((GRACE_SECONDS + 1) * 1000); // past the grace of a refresh token the last refresh retired
      const res = await visit('/');
      assert.equal(res.status(), 200);
      assert.equal(await page.getByTestId('user').textContent(), `Signed in as ${EMAIL}`, `round ${round}, visit ${i}`);
    }
  }
  assert.deepEqual(calls('GetTokensFromRefreshToken'), [], 'the page itself never refreshed');
  // One refresh per expiry, each by the proxy; none failed (no RefreshTokenReuseException).
  assert.deepEqual(await refreshCounts(), { ok: 3 });
});

step('sign-out revokes and clears every token cookie; the protected page sends to sign-in', async () => {
  const from = amzTargets.length;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByTestId('user').filter({ hasText: 'Signed out.' }).waitFor();
  assert.equal(calls('RevokeToken', from).length, 1);
  assert.deepEqual(Object.keys(await tokenCookies()), []);
  await visit('/protected');
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  const me = await visit('/api/me');
  assert.equal(me.status(), 401);
});

// Behind cognate gateway: the same build, another `next start` with
// COGNATE_GATEWAY=1 (the events panel asks the gateway's token route) and
// REFRESH_MARGIN_SECONDS=1, so that the app's proxy refreshes no earlier
// than Amplify's own 5 s; the gateway, in front, refreshes 6 s before
// expiry (--refresh-before; its default, 15 s, would be most of these
// 20 s tokens), so it always refreshes first. Client mode: Amplify in the page writes the
// cookies (not HttpOnly), the gateway reads, refreshes and rewrites them.

let counts; // the server's refresh and revoke counts when the gateway started

step('the same build behind cognate gateway (client mode), in a fresh browser context', async () => {
  appBehind = await nextStart('next behind the gateway', cognate.ports[4], { COGNATE_GATEWAY: '1', REFRESH_MARGIN_SECONDS: '1' });
  const port = cognate.ports[5];
  gateway = serve('gateway', `http://${GATEWAY_HOST}:${port}`, cognate.bin, [
    'gateway', '--upstream', `http://127.0.0.1:${cognate.ports[4]}`, '--listen', `127.0.0.1:${port}`,
    '--origin', `http://${GATEWAY_HOST}:${port}`, '--mode', 'client', '--user-pool-id', POOL_ID, '--client-id', CLIENT_ID,
    '--user-pool-endpoint', `http://localhost:${cognate.ports[0]}`, '--public-paths', '/',
    '--legacy-cookie-paths', LEGACY_PATH, '--legacy-cookie-domains', GATEWAY_HOST, '--metrics-addr', 'off',
    '--refresh-before', '6s',
  ]);
  gateway.loopback = `http://127.0.0.1:${port}`;
  await until200(`${gateway.loopback}/_gateway/ready`, gateway);
  site = gateway;
  page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
  watch(page);
  counts = { refresh: await refreshCounts(), revoke: await opCounts('RevokeToken') };
});

const tokenRoute = []; // the responses of the gateway's token route to the page

step("behind the gateway: sign-in, Server Components, /api/me, and the events panel on the gateway's token", async () => {
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/api/auth/token') tokenRoute.push(r);
  });
  await visit('/sign-in');
  await signIn();
  assert.equal(await page.getByTestId('protected-user').textContent(), EMAIL);
  await eventsRoundTrip();
  assert.equal(tokenRoute.length, 1);
  assert.equal(await tokenRoute[0].request().headerValue('x-cognate-token'), '1');
  assert.equal((await tokenRoute[0].json()).accessToken, (await tokenCookies()).accessToken.value);
  const me = await visit('/api/me');
  assert.equal(me.status(), 200);
  assert.equal((await me.json()).UserAttributes.find((a) => a.Name === 'email')?.Value, EMAIL);
});

step('forged identity headers never reach the app: the gateway sends its own, from the session', async () => {
  const forged = {
    'X-Cognate-User': 'admin', 'x-cognate-groups': 'admin', X_Cognate_Email: 'boss@example.com',
    'X-Amzn-Oidc-Identity': 'admin', 'X-Forwarded-User': 'admin', 'Remote-User': 'admin',
  };
  // The route echoes them when they reach it...
  const direct = await (await fetch(`${appBehind.url}/api/identity`, { headers: forged })).json();
  assert.deepEqual(Object.keys(direct).sort(), Object.keys(forged).map((k) => k.toLowerCase()).sort());
  // ...not through the gateway: signed out, none; signed in, the user's.
  assert.deepEqual(await (await fetch(`${gateway.loopback}/api/identity`, { headers: forged })).json(), {});
  await page.setExtraHTTPHeaders(forged);
  const res = await visit('/api/identity');
  await page.setExtraHTTPHeaders({});
  const { username, sub } = claims((await tokenCookies()).accessToken.value);
  // (and, on a page request, the CSRF token of the gateway's password form)
  const { 'x-cognate-csrf-token': csrf, ...identity } = await res.json();
  assert.deepEqual(identity, { 'x-cognate-user': username, 'x-cognate-sub': sub, 'x-cognate-email': EMAIL });
  assert.match(csrf, /^[\w-]{32,}$/);
});

/** The Amplify cookies in a Cookie header, as the browser has them. */
async function cookieHeader() {
  return Object.values(await tokenCookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}

/** The refresh counts since the gateway started. */
async function refreshesBehind() {
  const now = await refreshCounts();
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (counts.refresh[k] ?? 0)]).filter(([, v]) => v));
}

step(`Chromium, past expiry: ${PARALLEL} parallel Server Component requests, one refresh (the gateway's); the renders and the cookie jar get the rotated tokens`, async () => {
  await visit('/');
  const before = await tokenCookies();
  const already = (await refreshesBehind()).ok ?? 0; // a slow run may have crossed the gateway's margin
  await pastExpiry();
  const from = amzTargets.length;
  const results = await page.evaluate((n) => Promise.all(Array.from({ length: n }, () => fetch('/').then(async (r) => ({
    status: r.status, cacheControl: r.headers.get('cache-control'), body: await r.text(),
  })))), PARALLEL);
  const iats = new Set();
  for (const r of results) {
    assert.equal(r.status, 200);
    assert.equal(r.cacheControl, 'private, no-store');
    assert.ok(r.body.includes(`Signed in as <!-- -->${EMAIL}`) || r.body.includes(`Signed in as ${EMAIL}`), r.body.slice(0, 500));
    iats.add(Number(/data-testid="iat">(\d+)</.exec(r.body)?.[1]));
  }
  const after = await tokenCookies();
  assert.notEqual(after.accessToken.value, before.accessToken.value);
  assert.notEqual(after.refreshToken.value, before.refreshToken.value, 'rotation is on');
  // Every render read the one refreshed token, the one now in the jar.
  assert.deepEqual([...iats], [claims(after.accessToken.value).iat]);
  assert.deepEqual(await refreshesBehind(), { ok: already + 1 });
  assert.deepEqual(calls('GetTokensFromRefreshToken', from), [], 'the page did not refresh');
});

step(`Node, past the next expiry: ${PARALLEL} parallel requests, one refresh; Chromium, with the cookies it still has, gets the same rotated tokens`, async () => {
  const cookie = await cookieHeader();
  const already = (await refreshesBehind()).ok;
  await pastExpiry();
  const responses = await Promise.all(Array.from({ length: PARALLEL }, () => fetch(`${gateway.loopback}/`, { headers: { cookie, accept: 'text/html' } })));
  const issued = new Set();
  for (const res of responses) {
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'private, no-store');
    const body = await res.text();
    // The new access token (the other .accessToken cookies set expire the legacy variants).
    const written = res.headers.getSetCookie().map((c) => c.split(';')[0].split('='));
    const token = written.find(([name, value]) => name.endsWith('.accessToken') && value)?.[1];
    assert.ok(token, res.headers.getSetCookie().join('\n'));
    assert.equal(Number(/data-testid="iat">(\d+)</.exec(body)?.[1]), claims(token).iat);
    issued.add(token);
  }
  assert.equal(issued.size, 1, 'one refresh, the same tokens for every request');
  refreshed = { ok: already + 1 };
  assert.deepEqual(await refreshesBehind(), refreshed);

  // The browser still holds the refresh token that refresh retired.
  const res = await visit('/');
  const names = await setCookieNames(res);
  assert.ok(names.some((n) => n.endsWith('.accessToken')) && names.some((n) => n.endsWith('.refreshToken')), names.join());
  const [token] = issued;
  assert.equal((await tokenCookies()).accessToken.value, token);
  assert.equal(Number(await page.getByTestId('iat').textContent()), claims(token).iat);
  assert.deepEqual(await refreshesBehind(), refreshed, 'no second refresh');
});

step(`sign-out through the gateway revokes and expires every token cookie, copies with Path=${LEGACY_PATH} or Domain=${GATEWAY_HOST} too`, async () => {
  // Copies an older deployment (or a CookieStorage with other attributes) left.
  const { accessToken, refreshToken } = await tokenCookies();
  await page.context().addCookies([accessToken, refreshToken].flatMap((c) => [
    { ...c, domain: GATEWAY_HOST, path: LEGACY_PATH }, { ...c, domain: `.${GATEWAY_HOST}`, path: '/' },
  ]));
  const copies = (await page.context().cookies()).filter((c) => c.name === accessToken.name);
  assert.deepEqual(copies.map((c) => `${c.domain}${c.path}`).sort(), [`.${GATEWAY_HOST}/`, `${GATEWAY_HOST}/`, `${GATEWAY_HOST}${LEGACY_PATH}`]);

  await visit('/api/auth/sign-out');
  assert.equal(new URL(page.url()).pathname, '/');
  assert.equal(await page.getByTestId('user').textContent(), 'Signed out.');
  assert.deepEqual((await page.context().cookies()).filter((c) => TOKEN_COOKIE.test(c.name)), []);
  const revoked = await opCounts('RevokeToken');
  assert.ok((revoked.ok ?? 0) > (counts.revoke.ok ?? 0), JSON.stringify(revoked));

  // The app, as before: signed out.
  await visit('/protected');
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  assert.equal((await visit('/api/me')).status(), 401);
  assert.deepEqual(await refreshesBehind(), refreshed, 'no other refresh, none failed');
});

// Server-side auth: the same build once more, its server runner on the second
// app client (AMPLIFY_OUTPUTS: the pool's outputs with that client and its
// managed login, auth.oauth) and AMPLIFY_APP_ORIGIN, so that
// createAuthRouteHandlers serves /api/auth/* and the adapter writes HttpOnly
// cookies. /server-auth configures no Amplify in the browser. Node reaches
// the managed login's /oauth2/token and /oauth2/revoke with the local CA.

step('the same build for server-side auth, on a client allowed the code flow, in a fresh browser context', async () => {
  const port = cognate.ports[6];
  const origin = `http://localhost:${port}`;
  const outputs = await cognate.waitForJson('amplify_outputs.json');
  const file = path.join(cognate.workDir, 'server-auth-outputs.json');
  await writeFile(file, JSON.stringify({
    ...outputs,
    auth: {
      ...outputs.auth, user_pool_client_id: SERVER_AUTH_CLIENT,
      oauth: {
        identity_providers: [], domain: `localhost:${cognate.ports[1]}`, scopes: ['openid', 'email', 'profile'],
        redirect_sign_in_uri: [`${origin}/api/auth/sign-in-callback`], redirect_sign_out_uri: [`${origin}/api/auth/sign-out-callback`],
        response_type: 'code',
      },
    },
  }));
  appServerAuth = await nextStart('next, server-side auth', port, {
    AMPLIFY_OUTPUTS: file, AMPLIFY_APP_ORIGIN: origin, NODE_EXTRA_CA_CERTS: tls.caFile, REFRESH_MARGIN_SECONDS: '1',
  });
  site = appServerAuth;
  page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
  await visit('/server-auth');
  assert.equal(await page.getByTestId('server-user').textContent(), 'Signed out.');
});

step('sign-in through /api/auth/sign-in and the managed login: HttpOnly token cookies, none in document.cookie; the Server Component shows the user', async () => {
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.origin === `https://localhost:${cognate.ports[1]}`);
  await page.fill('input[name=username]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('#signin');
  await page.waitForURL(`${site.url}/server-auth`);
  const cookies = await tokenCookies();
  assert.deepEqual(Object.keys(cookies).sort(), ['LastAuthUser', 'accessToken', 'idToken', 'refreshToken']);
  for (const [k, c] of Object.entries(cookies)) {
    assert.ok(c.name.startsWith(`CognitoIdentityServiceProvider.${SERVER_AUTH_CLIENT}.`), c.name);
    assert.equal(c.httpOnly, true, `${k} is HttpOnly`);
  }
  const access = claims(cookies.accessToken.value);
  assert.equal(access.client_id, SERVER_AUTH_CLIENT);
  assert.equal(claims(cookies.idToken.value).email, EMAIL);
  assert.equal(await page.getByTestId('server-user').textContent(), access.username);
  assert.equal(await page.getByTestId('server-sub').textContent(), access.sub);
  const visible = await page.evaluate(() => document.cookie);
  for (const c of Object.values(cookies)) assert.ok(!visible.includes(c.value), `document.cookie: ${visible}`);
  assert.ok(!visible.includes('CognitoIdentityServiceProvider'), `document.cookie: ${visible}`);
});

step('sign-out through /api/auth/sign-out: the refresh token revoked at the pool, every cookie cleared, the page signed out', async () => {
  const { refreshToken } = await tokenCookies();
  const before = await outcomes('cognate_oauth_outcomes_total', 'endpoint', 'revoke');
  await page.getByRole('link', { name: 'Sign out' }).click();
  await page.getByTestId('server-user').filter({ hasText: 'Signed out.' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/server-auth');
  assert.deepEqual(await outcomes('cognate_oauth_outcomes_total', 'endpoint', 'revoke'), { ok: (before.ok ?? 0) + 1 });
  // Not one of Amplify's (tokens, PKCE, state, sign-out); the managed login's own CSRF cookie stays.
  assert.deepEqual((await page.context().cookies()).map((c) => c.name).filter((n) => n !== 'cognate_csrf'), []);
  // The pool refuses the revoked refresh token.
  const res = await fetch(cognate.http, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: JSON.stringify({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: SERVER_AUTH_CLIENT, AuthParameters: { REFRESH_TOKEN: refreshToken.value } }),
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).__type, 'NotAuthorizedException');
});
