// Shared harness for the browser conformance suite.
//
// It builds (or takes COGNATE_BIN) and starts `cognate serve` with HTTP and
// HTTPS on free loopback ports, a fresh data directory and a --config file
// the test writes. It also serves the relying party's own HTTPS pages with
// the server's certificate, launches Debian's Chromium through
// playwright-core, trusts the server's certificate in that browser, reads
// codes from the dev outbox and saves screenshots.
//
// Every *.test.mjs file runs in its own Node process (node --test), with its
// own server, browser and data.

import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

import {
  freePort, outboxSnapshot as outboxSnapshotAt, scenarioSteps, startCognate, waitForMessage, waitForTLS,
} from '../../lib/cognate.mjs';

export { freePort };

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SUITE_ROOT = path.resolve(HERE, '..');
export const ARTIFACTS = path.join(SUITE_ROOT, 'artifacts');

export const POOL_ID = 'us-east-1_Test12345';
export const REGION = 'us-east-1';
// Satisfies Cognito's default password policy.
export const PASSWORD = 'Correct-Horse-9';

// ---------------------------------------------------------------------------
// steps
// ---------------------------------------------------------------------------

/**
 * Steps of one scenario that depend on each other: when a step fails, the
 * later ones are skipped and name it, unless the failing step was declared
 * { soft: true } (it checks something later steps do not need). A failing
 * step gets a screenshot of every open page and the server log tail as
 * diagnostics.
 */
export function scenario({ pages = () => [], server = () => null } = {}) {
  return scenarioSteps({
    timeout: 90_000,
    diagnose: async (t, name) => {
      for (const p of pages()) {
        if (!p || p.isClosed()) continue;
        t.diagnostic(`page at ${p.url()}`);
        const file = await shot(p, `FAILED-${name}`).catch(() => null);
        if (file) t.diagnostic(`screenshot ${file}`);
        const errors = await visibleErrors(p).catch(() => []);
        if (errors.length) t.diagnostic(`errors on the page: ${JSON.stringify(errors)}`);
      }
      const s = server();
      if (s) for (const line of s.tail(40).split('\n')) t.diagnostic(`[server] ${line}`);
    },
  });
}

// ---------------------------------------------------------------------------
// the server
// ---------------------------------------------------------------------------

/**
 * An HTTPS request from Node that trusts the server's CA (ca.pem), for the
 * relying party's back-channel calls (the token endpoint). Returns
 * { status, headers, text, json }.
 */
export function request(url, { method = 'GET', headers = {}, body, ca } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = https.request(u, { method, headers, ca, timeout: 15_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Starts `cognate serve` with HTTP on one free port and HTTPS on another,
 * --public-url https://localhost:<tls port>, and the given --config
 * (an object in the server's FileConfig shape, or a function of the ports
 * that returns one, so callback URLs can name ports chosen here).
 *
 * extraPorts: how many more distinct free ports to pick for the test (ports).
 * demo: true runs the demo app on a free port (--demo-addr); otherwise it
 * is turned off (--demo-addr off), so no test binds the default port 3000.
 * args: more flags (e.g. ['--token-lifetime', '10s']).
 *
 * Returns { http, https, tlsPort, httpPort, ports, dataDir, ca, cert, key,
 * spki, adminCredentials, outputs (amplify_outputs.json), demo (its origin,
 * or null), demoPort, tail(n), logs(), stop() }.
 */
export async function startServer({ config, extraPorts = 0, demo = false, args: extraArgs = [] } = {}) {
  // ports: HTTP, HTTPS, the test's extra ports, then the demo's.
  const split = ([httpPort, tlsPort, ...rest]) => ({
    httpPort, tlsPort, ports: rest.slice(0, extraPorts), demoPort: demo ? rest[extraPorts] : null,
  });
  const publicURL = (all) => `https://localhost:${split(all).tlsPort}`;
  const cognate = await startCognate({
    name: 'browser',
    ports: 2 + extraPorts + (demo ? 1 : 0),
    config: typeof config === 'function' ? (all) => config(split(all)) : config,
    args: (all) => {
      const { tlsPort, demoPort } = split(all);
      return [
        '--tls-addr', `127.0.0.1:${tlsPort}`, '--public-url', publicURL(all),
        '--demo-addr', demo ? `127.0.0.1:${demoPort}` : 'off', ...extraArgs,
      ];
    },
  });
  try {
    const { httpPort, tlsPort, ports, demoPort } = split(cognate.ports);
    const { ca, cert, key } = await waitForTLS(cognate, publicURL(cognate.ports));
    // The demo listener answers once the server is up; wait for it anyway.
    if (demo) await cognate.waitForOK(`http://127.0.0.1:${demoPort}/`);
    return {
      http: cognate.http,
      https: publicURL(cognate.ports),
      httpPort,
      tlsPort,
      ports,
      dataDir: cognate.dataDir,
      ca,
      cert,
      key,
      spki: spkiHash(cert),
      adminCredentials: await cognate.waitForJson('admin-credentials.json'),
      outputs: await cognate.waitForJson('amplify_outputs.json'),
      demo: demo ? `http://localhost:${demoPort}` : null,
      demoPort,
      tail: (n = 40) => cognate.tail(n),
      logs: () => cognate.describe(),
      stop: () => cognate.stop(),
    };
  } catch (err) {
    await cognate.stop();
    throw err;
  }
}

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo (Chromium's SPKI pin format). */
export function spkiHash(certPem) {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** An AWS SDK client signing admin calls with the server's admin credentials (over HTTP on loopback). */
export function adminClient(server) {
  const { access_key_id: accessKeyId, secret_access_key: secretAccessKey } = server.adminCredentials;
  return new CognitoIdentityProviderClient({
    endpoint: server.http, region: REGION, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1,
  });
}

/** Creates a confirmed user (verified email, permanent password) and returns its sub. */
export async function createUser(server, email, password) {
  const api = adminClient(server);
  const pool = server.outputs.auth.user_pool_id;
  const out = await api.send(new AdminCreateUserCommand({
    UserPoolId: pool, Username: email, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }],
  }));
  await api.send(new AdminSetUserPasswordCommand({ UserPoolId: pool, Username: email, Password: password, Permanent: true }));
  return out.User.Attributes.find((a) => a.Name === 'sub').Value;
}

// ---------------------------------------------------------------------------
// the relying party's HTTPS pages
// ---------------------------------------------------------------------------

/**
 * Serves handler over HTTPS on 127.0.0.1:port with the server's certificate
 * (it covers localhost). Returns { url, close() }.
 */
export async function serveHttps({ port, cert, key, handler }) {
  const srv = https.createServer({ cert, key }, (req, res) => {
    Promise.resolve(handler(req, res)).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err?.stack ?? err));
    });
  });
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `https://localhost:${port}`,
    close: () => new Promise((resolve) => {
      srv.closeAllConnections?.();
      srv.close(() => resolve());
    }),
  };
}

/**
 * Bundles entry, JavaScript source that imports aws-amplify (resolved from
 * this suite's node_modules), for the browser with esbuild, and returns the
 * code: an ES module, or with format 'iife' a classic script.
 */
export async function bundleForBrowser(entry, { format = 'esm', minify = false } = {}) {
  const out = await esbuild.build({
    stdin: { contents: entry, resolveDir: SUITE_ROOT, sourcefile: 'entry.js', loader: 'js' },
    bundle: true,
    format,
    platform: 'browser',
    target: 'es2020',
    minify,
    write: false,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return out.outputFiles[0].text;
}

// ---------------------------------------------------------------------------
// the browser
// ---------------------------------------------------------------------------

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/**
 * Launches Debian's Chromium (never a downloaded one). The server's
 * certificate is trusted by its SPKI hash: --ignore-certificate-errors-spki-list
 * accepts exactly the certificates carrying that public key, and no others,
 * so the browser still rejects any other untrusted certificate (unlike
 * ignoreHTTPSErrors, which accepts everything). Importing ca.pem into an
 * NSS database in a profile would be the other way, but needs certutil and
 * a persistent profile.
 */
export async function launchBrowser(spki) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. Install Debian's chromium with \`make browser-deps\` ` +
      '(or set CHROMIUM to its path). This suite never downloads a browser.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--ignore-certificate-errors-spki-list=${spki}`,
    ],
  });
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

export async function newContext(browser, viewport = PHONE) {
  return browser.newContext({ ignoreHTTPSErrors: false, viewport, locale: 'en-US' });
}

let shotCount = 0;
let shotPrefix = path.basename(process.argv[1] ?? 'suite').replace(/\.test\.mjs$/, '');

/** Sets the prefix of this file's screenshots and removes its earlier ones. */
export function screenshotPrefix(p) {
  shotPrefix = p;
  if (!existsSync(ARTIFACTS)) return;
  for (const f of readdirSync(ARTIFACTS)) {
    if (f.startsWith(`${p}-`) && f.endsWith('.png')) rmSync(path.join(ARTIFACTS, f), { force: true });
  }
}

/**
 * Saves a full-page screenshot (or, with locator, one of that element) as
 * artifacts/<prefix>-<nn>-<name>.png and returns its path.
 */
export async function shot(page, name, { locator } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  shotCount += 1;
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80);
  const file = path.join(ARTIFACTS, `${shotPrefix}-${String(shotCount).padStart(2, '0')}-${safe}.png`);
  if (locator) await locator.screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Texts of the visible elements with class "error". */
export async function visibleErrors(page) {
  return page.$$eval('.error', (els) => els
    .filter((el) => el.offsetParent !== null || el.getClientRects().length > 0)
    .map((el) => el.textContent.trim())
    .filter(Boolean));
}

/** Waits until the page's URL has this pathname (on any origin when origin is omitted). */
export async function waitForPath(page, pathname, { origin, timeout = 15_000 } = {}) {
  try {
    await page.waitForURL((u) => u.pathname === pathname && (!origin || u.origin === origin), { timeout, waitUntil: 'load' });
  } catch (err) {
    const errors = await visibleErrors(page).catch(() => []);
    throw new Error(`expected to reach ${origin ?? ''}${pathname}, but the page is at ${page.url()}` +
      `${errors.length ? ` showing errors ${JSON.stringify(errors)}` : ''} (${err.message.split('\n')[0]})`);
  }
}

/**
 * Starts a navigation to the server's hosted pages with action (a click, or
 * a script that redirects there) and waits until the page is at pathname.
 */
export async function toHostedPage(page, server, pathname, action) {
  await Promise.all([page.waitForURL((u) => u.origin === server.https, { timeout: 15_000 }), action()]);
  await waitForPath(page, pathname, { origin: server.https });
}

// ---------------------------------------------------------------------------
// protocol helpers
// ---------------------------------------------------------------------------

const b64url = (buf) => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** A PKCE pair (S256) and fresh state and nonce. */
export function pkce() {
  const verifier = b64url(randomBytes(48));
  return {
    verifier,
    challenge: b64url(createHash('sha256').update(verifier).digest()),
    state: b64url(randomBytes(16)),
    nonce: b64url(randomBytes(16)),
  };
}

/** The authorize URL for a code request with PKCE. */
export function authorizeURL(server, { clientId, redirectUri, scope = 'openid email profile', p, extra = {} }) {
  const q = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope,
    state: p.state, nonce: p.nonce, code_challenge: p.challenge, code_challenge_method: 'S256', ...extra,
  });
  return `${server.https}/oauth2/authorize?${q}`;
}

/** Redeems a code at the token endpoint over HTTPS (Node trusts ca.pem). */
export async function exchangeCode(server, { clientId, redirectUri, code, verifier }) {
  const body = new URLSearchParams({
    grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: redirectUri, code_verifier: verifier,
  }).toString();
  return request(`${server.https}/oauth2/token`, {
    method: 'POST', ca: server.ca, body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
  });
}

export function decodeJwt(jwt) {
  const parts = String(jwt).split('.');
  if (parts.length !== 3) throw new Error(`not a JWT: ${String(jwt).slice(0, 40)}`);
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

// ---------------------------------------------------------------------------
// dev outbox
// ---------------------------------------------------------------------------

/** Keys of the outbox's current entries, for waitForCode's exclude. */
export const outboxSnapshot = (server) => outboxSnapshotAt(server);

/** Polls for the newest entry of kind to destination not in exclude, and returns its code. */
export async function waitForCode(server, opts) {
  return (await waitForMessage(server, opts)).code;
}
