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

import { spawn } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { chromium } from 'playwright-core';

import { cognateBinary, freePort } from '../../lib/cognate.mjs';

export { freePort };

export const DEBUG = process.env.DEBUG === '1';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SUITE_ROOT = path.resolve(HERE, '..');
export const ARTIFACTS = path.join(SUITE_ROOT, 'artifacts');

const STARTUP_TIMEOUT_MS = Number(process.env.COGNATE_STARTUP_TIMEOUT_MS ?? 30_000);

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
  let brokenBy = null;
  return function step(name, fn, { soft = false, timeout = 90_000 } = {}) {
    return test(name, { timeout }, async (t) => {
      if (brokenBy) {
        t.skip(`not run: earlier step failed: ${brokenBy}`);
        return;
      }
      try {
        await fn(t);
      } catch (err) {
        if (!soft) brokenBy = name;
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
        throw err;
      }
    });
  };
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
 * Returns { http, https, tlsPort, httpPort, dataDir, ca, cert, key, spki,
 * adminCredentials, tail(n), stop() }.
 */
export async function startServer({ config, extraPorts = 0 } = {}) {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'cognate-browser-'));
  const dataDir = path.join(workDir, 'data');
  let bin;
  try {
    bin = await cognateBinary(workDir);
  } catch (err) {
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
  const httpPort = await freePort();
  let tlsPort = await freePort();
  while (tlsPort === httpPort) tlsPort = await freePort();
  const ports = [];
  while (ports.length < extraPorts) {
    const p = await freePort();
    if (p !== httpPort && p !== tlsPort && !ports.includes(p)) ports.push(p);
  }
  const publicURL = `https://localhost:${tlsPort}`;
  const args = [
    'serve', '--addr', `127.0.0.1:${httpPort}`, '--tls-addr', `127.0.0.1:${tlsPort}`,
    '--public-url', publicURL, '--data', dataDir,
  ];
  if (config) {
    const file = path.join(workDir, 'config.json');
    const body = typeof config === 'function' ? config({ httpPort, tlsPort, ports }) : config;
    await writeFile(file, JSON.stringify(body, null, 2));
    args.push('--config', file);
  }
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-200_000);
    if (DEBUG) process.stderr.write(`[server] ${chunk}`);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const killOnExit = () => proc.kill('SIGKILL');
  process.on('exit', killOnExit);
  const describe = () => `command: ${bin} ${args.join(' ')}\nexit: ${proc.exitCode ?? proc.signalCode ?? 'running'}\n--- server output ---\n${output}`;
  const stop = async () => {
    process.off('exit', killOnExit);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const done = await Promise.race([exited, sleep(10_000, null, { ref: false })]);
      if (!done) {
        proc.kill('SIGKILL');
        await exited;
      }
    }
    if (!process.env.COGNATE_KEEP_DATA) await rm(workDir, { recursive: true, force: true });
    else process.stderr.write(`[harness] kept server data in ${workDir}\n`);
  };

  try {
    const httpURL = `http://127.0.0.1:${httpPort}`;
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    let last = '';
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`cognate exited before it was ready\n${describe()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`cognate was not ready within ${STARTUP_TIMEOUT_MS} ms (${last})\n${describe()}`);
      }
      try {
        const res = await fetch(`${httpURL}/healthz`, { signal: AbortSignal.timeout(2000) });
        last = `GET /healthz -> ${res.status}`;
        if (res.status === 200) break;
      } catch (err) {
        last = `GET /healthz -> ${err?.cause?.code ?? err.message}`;
      }
      await sleep(150);
    }
    const tlsDir = path.join(dataDir, 'tls');
    const caFile = path.join(tlsDir, 'ca.pem');
    const certFile = path.join(tlsDir, 'cert.pem');
    const keyFile = path.join(tlsDir, 'key.pem');
    while (!(existsSync(caFile) && existsSync(certFile) && existsSync(keyFile))) {
      if (Date.now() > deadline) {
        throw new Error(`${tlsDir} has no ca.pem, cert.pem and key.pem: was --tls-addr honoured?\n${describe()}`);
      }
      await sleep(100);
    }
    const [ca, cert, key] = await Promise.all([caFile, certFile, keyFile].map((f) => readFile(f, 'utf8')));
    // The HTTPS listener answers with a certificate Node trusts via ca.pem.
    for (;;) {
      try {
        const res = await request(`${publicURL}/healthz`, { ca });
        if (res.status === 200) break;
        last = `GET https /healthz -> ${res.status}`;
      } catch (err) {
        last = `GET https /healthz -> ${err.code ?? err.message}`;
      }
      if (Date.now() > deadline) throw new Error(`HTTPS not ready (${last})\n${describe()}`);
      await sleep(150);
    }
    const adminCredentials = JSON.parse(await readFile(path.join(dataDir, 'admin-credentials.json'), 'utf8'));
    return {
      http: httpURL,
      https: publicURL,
      httpPort,
      tlsPort,
      ports,
      dataDir,
      ca,
      cert,
      key,
      spki: spkiHash(cert),
      adminCredentials,
      tail: (n = 40) => output.split('\n').slice(-n).join('\n'),
      logs: describe,
      stop,
    };
  } catch (err) {
    await stop();
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

/** Saves a full-page screenshot as artifacts/<prefix>-<nn>-<name>.png and returns its path. */
export async function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  shotCount += 1;
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80);
  const file = path.join(ARTIFACTS, `${shotPrefix}-${String(shotCount).padStart(2, '0')}-${safe}.png`);
  await page.screenshot({ path: file, fullPage: true });
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

export async function readOutbox(server) {
  const res = await fetch(`${server.http}/_dev/outbox.json`);
  if (res.status !== 200) throw new Error(`GET /_dev/outbox.json -> ${res.status} ${await res.text()}`);
  return res.json();
}

const outboxKey = (e) => JSON.stringify([e.kind, e.destination, e.code, e.created_at, e.username]);

/** Keys of the outbox's current entries, for waitForCode's exclude. */
export async function outboxSnapshot(server) {
  return new Set((await readOutbox(server)).map(outboxKey));
}

/** Polls for the newest entry of kind to destination not in exclude, and returns its code. */
export async function waitForCode(server, { destination, kind, exclude, timeoutMs = 10_000 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await readOutbox(server);
    const hit = list.find((e) => e.kind === kind
      && String(e.destination).toLowerCase() === destination.toLowerCase()
      && !(exclude && exclude.has(outboxKey(e))));
    if (hit) return hit.code;
    if (Date.now() > deadline) {
      throw new Error(`no new ${kind} message to ${destination} in the outbox within ${timeoutMs} ms; ` +
        `outbox: ${JSON.stringify(list.slice(0, 5))}`);
    }
    await sleep(150);
  }
}
