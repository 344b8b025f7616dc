// examples/nextjs, built once with `next build` against a fresh `cognate
// serve` and run with `next start`, in Debian's Chromium: client-side
// sign-up and SRP sign-in, the proxy's refresh, Server Components across
// expiry and refresh-token rotation, the events panel, sign-out.

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

let cognate;
let tls;
let app; // { url, proc, output }
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
    if (app) for (const line of app.output().split('\n').slice(-30)) t.diagnostic(`[next] ${line}`);
    if (cognate) for (const line of cognate.tail(20).split('\n')) t.diagnostic(`[cognate] ${line}`);
  },
});

after(async () => {
  await browser?.close();
  if (app?.proc.exitCode === null) {
    app.proc.kill('SIGTERM');
    await app.exited;
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

const nextBin = path.join(EXAMPLE, 'node_modules', '.bin', 'next');
const nextEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };

/** The Cognito JSON API requests the page made for op since index from. */
const calls = (op, from = 0) => amzTargets.slice(from).filter((r) => r.op === op);

/** GetTokensFromRefreshToken calls the server answered, by outcome (ok or the error type), from its metrics. */
async function refreshCounts() {
  const text = await (await fetch(`http://127.0.0.1:${cognate.ports[3]}/metrics`)).text();
  const counts = {};
  for (const m of text.matchAll(/^cognate_cognito_api_request_duration_seconds_count\{operation="GetTokensFromRefreshToken",outcome="([^"]+)"\} (\d+)$/gm)) {
    counts[m[1]] = Number(m[2]);
  }
  return counts;
}

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

/** Navigates to path and returns the document's response. */
async function visit(pathname) {
  const res = await page.goto(`${app.url}${pathname}`);
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
    ports: 4, // http, https (events), next start, metrics
    args: ([http, https, , metrics]) => [
      '--public-url', `http://localhost:${http}`, '--tls-addr', `127.0.0.1:${https}`, '--demo-addr', 'off',
      '--metrics-addr', `127.0.0.1:${metrics}`, '--token-lifetime', `${TOKEN_SECONDS}s`,
    ],
    config: {
      UserPools: [{
        Id: POOL_ID, PoolName: 'nextjs-example', UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'],
        Clients: [{
          ClientId: CLIENT_ID, ClientName: 'web',
          ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
          RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: GRACE_SECONDS },
        }],
      }],
    },
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
  const port = cognate.ports[2];
  const proc = spawn(nextBin, ['start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: EXAMPLE, env: { ...nextEnv, REFRESH_MARGIN_SECONDS: String(MARGIN_SECONDS) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  app = { url: `http://localhost:${port}`, proc, output: captureOutput(proc, 'next'), exited: new Promise((r) => proc.on('exit', r)) };
  process.on('exit', () => proc.kill('SIGKILL'));
  await pollUntil(async () => (await fetch(`${app.url}/sign-in`).catch(() => null))?.status === 200, {
    timeoutMs: 30_000, describe: () => `next start on ${app.url}\n${app.output()}`,
  });
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: make browser-deps (this suite never downloads a browser)`);
  // The events API is on Cognate's HTTPS listener: trust exactly its certificate's key.
  const spki = createHash('sha256').update(new X509Certificate(tls.cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--ignore-certificate-errors-spki-list=${spki}`],
  });
  page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
  page.on('request', (r) => {
    const target = r.headers()['x-amz-target'];
    if (target) amzTargets.push({ op: target.split('.').pop(), body: r.postData() });
  });
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

step('SRP sign-in in the browser; the proxy and a Server Component see the user', async () => {
  const from = amzTargets.length;
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  const landed = page.waitForResponse((r) => r.url() === `${app.url}/protected` && r.request().isNavigationRequest());
  await page.getByRole('button', { name: 'Sign in' }).click();
  const res = await landed;
  await page.getByTestId('protected-user').waitFor();
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

step("the events panel subscribes with the user's token and gets a message back", async () => {
  await visit('/protected');
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
