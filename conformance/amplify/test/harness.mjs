// Shared harness for the Amplify conformance suite.
//
// It builds (or takes COGNATE_BIN) and starts a Cognate server on a free
// loopback port with a fresh data directory, reads the files the server
// writes on first start, polls the dev outbox for codes, makes SigV4 admin
// clients with the real AWS SDK, configures the real Amplify Auth client
// against the server, and records every Cognito JSON call that goes through
// fetch so a failing test can show what was sent and what came back.
//
// Every *.test.mjs file runs in its own Node process (node --test), so every
// file gets its own server and its own Amplify singleton.

import { createPublicKey, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { test } from 'node:test';

import assert from 'node:assert/strict';

import { Amplify } from 'aws-amplify';
import { signIn, signOut } from 'aws-amplify/auth';
import { parseAmplifyConfig } from 'aws-amplify/utils';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  outboxSnapshot as outboxSnapshotAt, readOutbox as readOutboxAt, scenarioSteps, startCognate,
  waitForMessage as waitForMessageAt,
} from '../../lib/cognate.mjs';

export const DEBUG = process.env.DEBUG === '1';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ---------------------------------------------------------------------------
// fetch recorder
// ---------------------------------------------------------------------------

/**
 * Every request that carries an X-Amz-Target header (that is, every Cognito
 * JSON 1.1 call made by Amplify or by cognitoCall below) is appended here as
 * { op, url, request, status, response, errorType }.
 * The AWS SDK for JS uses node:http rather than fetch, so admin calls made with
 * it are not recorded.
 */
export const exchanges = [];

const realFetch = globalThis.fetch;

function headerValue(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return v;
  }
  return undefined;
}

function tryJson(text) {
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Reads the error code the way Amplify's parseJsonError and Smithy do:
 * x-amzn-errortype header, else body.code, else body.__type; cut at the first
 * ',' or ':'; keep what follows '#'.
 */
export function parseErrorType(status, headers, body) {
  if (status < 300) return undefined;
  let raw = headerValue(headers, 'x-amzn-errortype');
  if (!raw && body && typeof body === 'object') raw = body.code ?? body.__type;
  if (!raw) return undefined;
  raw = String(raw).split(/[,:]/)[0];
  if (raw.includes('#')) raw = raw.slice(raw.lastIndexOf('#') + 1);
  return raw;
}

function clip(s, n = 1500) {
  if (s === undefined) return '';
  const str = typeof s === 'string' ? s : JSON.stringify(s);
  return str.length > n ? `${str.slice(0, n)}…(${str.length} chars)` : str;
}

globalThis.fetch = async function recordingFetch(input, init = {}) {
  const url = typeof input === 'string' ? input : input?.url ?? String(input);
  const target = headerValue(init.headers, 'x-amz-target')
    ?? (input instanceof Request ? input.headers.get('x-amz-target') ?? undefined : undefined);
  if (!target) return realFetch(input, init);
  const op = target.split('.').pop();
  const requestText = typeof init.body === 'string' ? init.body : undefined;
  const entry = { op, url, request: tryJson(requestText) ?? requestText };
  exchanges.push(entry);
  if (DEBUG) process.stderr.write(`[cognate ->] ${op} ${clip(requestText, 4000)}\n`);
  let res;
  try {
    res = await realFetch(input, init);
  } catch (err) {
    entry.status = 0;
    entry.response = `fetch failed: ${err?.cause?.message ?? err.message}`;
    if (DEBUG) process.stderr.write(`[cognate <-] ${op} ${entry.response}\n`);
    throw err;
  }
  const text = await res.clone().text();
  entry.status = res.status;
  entry.response = tryJson(text) ?? text;
  entry.errorType = parseErrorType(res.status, res.headers, entry.response);
  if (DEBUG) process.stderr.write(`[cognate <-] ${op} ${res.status} ${clip(text, 4000)}\n`);
  return res;
};

/** Index to pass to callsSince(). */
export function mark() {
  return exchanges.length;
}

/** Recorded calls since a mark(), optionally only those of one operation. */
export function callsSince(index, op) {
  const list = exchanges.slice(index);
  return op ? list.filter((e) => e.op === op) : list;
}

export function formatExchanges(list) {
  if (list.length === 0) return 'no Cognito calls were recorded for this test';
  return list
    .map((e) => `${e.op} request=${clip(e.request)}\n  -> ${e.status} ${clip(e.response)}`)
    .join('\n');
}

// ---------------------------------------------------------------------------
// node:test helpers
// ---------------------------------------------------------------------------

/** One diagnostic line per line (the reporters escape newlines inside one). */
function diagnose(t, title, calls) {
  t.diagnostic(title);
  for (const line of formatExchanges(calls).split('\n')) t.diagnostic(line);
}

/**
 * A node:test test that, when it fails, attaches the Cognito calls it made
 * (request and response) as test diagnostics.
 */
export function check(name, fn, { timeout = 60_000 } = {}) {
  return test(name, { timeout }, async (t) => {
    const start = mark();
    try {
      await fn(t);
    } catch (err) {
      diagnose(t, 'Cognito calls made by this test:', callsSince(start));
      throw err;
    }
  });
}

/**
 * Steps of one scenario that depend on each other. When a step fails, every
 * later step is skipped with the name of the step that broke the chain, unless
 * the failing step was declared { soft: true } (it checks something later
 * steps do not need). A failing step gets its Cognito calls as diagnostics.
 */
export function scenario() {
  return scenarioSteps({
    begin: mark,
    diagnose: (t, _name, start) => diagnose(t, 'Cognito calls made by this step:', callsSince(start)),
  });
}

/**
 * Runs fn, which must throw; returns the error. Fails when fn resolves.
 */
export async function expectError(fn, what = 'operation') {
  let result;
  try {
    result = await fn();
  } catch (err) {
    return err;
  }
  throw new Error(`${what} was expected to fail but succeeded with ${clip(result, 800)}`);
}

// ---------------------------------------------------------------------------
// server lifecycle
// ---------------------------------------------------------------------------

/**
 * Starts a Cognate server and waits until it is ready.
 * Returns { url, port, dataDir, outputs, adminCredentials, poolId, clientId,
 * region, stop(), logs() }.
 */
export async function startServer() {
  const cognate = await startCognate({
    name: 'amplify',
    args: ([port]) => ['--tls-addr', 'off', '--demo-addr', 'off', '--public-url', `http://127.0.0.1:${port}`],
  });
  try {
    const outputs = await cognate.waitForJson('amplify_outputs.json');
    const adminCredentials = await cognate.waitForJson('admin-credentials.json');
    const auth = outputs?.auth ?? {};
    return {
      url: cognate.http,
      port: cognate.ports[0],
      dataDir: cognate.dataDir,
      outputs,
      adminCredentials,
      poolId: auth.user_pool_id,
      clientId: auth.user_pool_client_id,
      region: auth.aws_region ?? String(auth.user_pool_id ?? '').split('_')[0],
      stop: () => cognate.stop(),
      logs: () => cognate.describe(),
    };
  } catch (err) {
    await cognate.stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------
// dev outbox
// ---------------------------------------------------------------------------

const outboxAt = (server) => ({ http: server.url, dataDir: server.dataDir });

export const readOutbox = (server) => readOutboxAt(outboxAt(server));

/** A snapshot of the outbox; pass it as `exclude` to waitForMessage. */
export const outboxSnapshot = (server) => outboxSnapshotAt(outboxAt(server));

/**
 * Polls the outbox for the newest entry with this destination and kind that
 * is not in `exclude` (a snapshot taken before the action that sends it).
 * Returns the whole entry ({pool_id, username, destination, kind, code, created_at}).
 */
export const waitForMessage = (server, opts) => waitForMessageAt(outboxAt(server), opts);

/** Convenience: the code of waitForMessage. */
export async function waitForCode(server, opts) {
  const entry = await waitForMessage(server, opts);
  return entry.code;
}

// ---------------------------------------------------------------------------
// identities
// ---------------------------------------------------------------------------

export function randomHex(bytes = 6) {
  return randomBytes(bytes).toString('hex');
}

/** user-<random>@example.com, or user-<random>+<tag>@example.com. */
export function uniqueEmail(tag) {
  const local = `user-${randomHex(6)}`;
  return tag ? `${local}+${tag}@example.com` : `${local}@example.com`;
}

/** A password that satisfies Cognito's default policy (upper, lower, digit, symbol, >= 8). */
export function strongPassword() {
  return `Pw!${randomHex(5)}9Zq#`;
}

/** A 6-digit code guaranteed to differ from `code`. */
export function wrongCode(code) {
  const n = Number.parseInt(String(code), 10);
  const other = Number.isFinite(n) ? (n + 1) % 1_000_000 : 123456;
  return String(other).padStart(Math.max(6, String(code).length), '0');
}

// ---------------------------------------------------------------------------
// admin (SigV4) client
// ---------------------------------------------------------------------------

export function adminClient(server) {
  const { access_key_id: accessKeyId, secret_access_key: secretAccessKey } = server.adminCredentials;
  return new CognitoIdentityProviderClient({
    endpoint: server.url,
    region: server.region,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

/**
 * Creates a public app client with refresh-token rotation enabled (grace
 * period 0) and PreventUserExistenceErrors on. Returns the UserPoolClient.
 */
export async function createRotatingClient(server, name = `rotating-${randomHex(3)}`) {
  const out = await adminClient(server).send(new CreateUserPoolClientCommand({
    UserPoolId: server.poolId,
    ClientName: name,
    GenerateSecret: false,
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    PreventUserExistenceErrors: 'ENABLED',
    EnableTokenRevocation: true,
    RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 0 },
  }));
  if (!out?.UserPoolClient?.ClientId) {
    throw new Error(`CreateUserPoolClient returned no ClientId: ${clip(out)}`);
  }
  return out.UserPoolClient;
}

// ---------------------------------------------------------------------------
// direct (unsigned) Cognito calls
// ---------------------------------------------------------------------------

/**
 * POST / with X-Amz-Target AWSCognitoIdentityProviderService.<op>; no SigV4.
 * Returns { status, body, errorType, message, headers }.
 */
export async function cognitoCall(server, op, body) {
  const res = await globalThis.fetch(`${server.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${op}`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = tryJson(text) ?? text;
  return {
    status: res.status,
    headers: res.headers,
    body: parsed,
    errorType: parseErrorType(res.status, res.headers, parsed),
    message: parsed && typeof parsed === 'object' ? parsed.message ?? parsed.Message : undefined,
  };
}

// ---------------------------------------------------------------------------
// Amplify
// ---------------------------------------------------------------------------

/** KeyValueStorageInterface kept in memory; lets tests read the stored refresh token. */
export class MemoryKeyValueStorage {
  constructor() {
    this.map = new Map();
  }

  async setItem(key, value) {
    this.map.set(key, value);
  }

  async getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }

  async removeItem(key) {
    this.map.delete(key);
  }

  async clear() {
    this.map.clear();
  }

  /** The refresh token Amplify stored for this app client, or null. */
  refreshToken(clientId) {
    for (const [k, v] of this.map) {
      if (k.startsWith(`CognitoIdentityServiceProvider.${clientId}.`) && k.endsWith('.refreshToken')) {
        return v;
      }
    }
    return null;
  }
}

/** The Amplify Auth config the server's amplify_outputs.json parses to. */
export function amplifyAuthConfig(server) {
  let cognito;
  try {
    cognito = parseAmplifyConfig(server.outputs)?.Auth?.Cognito;
  } catch {
    cognito = undefined;
  }
  if (!cognito?.userPoolId) {
    // Outputs Amplify does not understand are reported by outputs.test.mjs;
    // fall back to the raw fields so the other files can still run.
    const auth = server.outputs?.auth ?? {};
    cognito = {
      userPoolId: auth.user_pool_id,
      userPoolClientId: auth.user_pool_client_id,
      loginWith: { email: true },
    };
  }
  return cognito;
}

/**
 * Configures the Amplify singleton against the server, optionally with another
 * app client. Hosted-UI settings are dropped (there is no browser here).
 * With storage === 'default', Amplify keeps its own default storage (which in
 * Node is its in-memory fallback); otherwise a MemoryKeyValueStorage (given or
 * new) is installed after configure. Returns the storage used.
 */
export function configureAmplify(server, { clientId, storage } = {}) {
  const cognito = { ...amplifyAuthConfig(server), userPoolEndpoint: server.url };
  if (clientId) cognito.userPoolClientId = clientId;
  if (cognito.loginWith?.oauth) {
    const { oauth, ...rest } = cognito.loginWith;
    cognito.loginWith = rest;
  }
  Amplify.configure({ Auth: { Cognito: cognito } });
  if (storage === 'default') return null;
  const kv = storage ?? new MemoryKeyValueStorage();
  // Amplify.configure re-installs its default storage every time, so this
  // must come after it.
  cognitoUserPoolsTokenProvider.setKeyValueStorage(kv);
  return kv;
}

// ---------------------------------------------------------------------------
// JWT
// ---------------------------------------------------------------------------

export function decodeJwt(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) throw new Error(`not a JWS compact token (${parts.length} segments)`);
  const json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: json(parts[0]), payload: json(parts[1]), parts };
}

/**
 * Verifies an RS256 JWT against the JWKS at <iss>/.well-known/jwks.json.
 * Returns the decoded token; throws on any mismatch.
 */
export async function verifyJwtWithJwks(token) {
  const { header, payload, parts } = decodeJwt(token);
  if (header.alg !== 'RS256') throw new Error(`alg is ${header.alg}, want RS256`);
  if (!header.kid) throw new Error('token header has no kid');
  const jwksUrl = `${payload.iss}/.well-known/jwks.json`;
  const res = await realFetch(jwksUrl);
  if (res.status !== 200) throw new Error(`GET ${jwksUrl} -> ${res.status}`);
  const jwks = await res.json();
  const jwk = (jwks.keys ?? []).find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`kid ${header.kid} not in ${jwksUrl} (${(jwks.keys ?? []).map((k) => k.kid)})`);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const ok = cryptoVerify(
    'RSA-SHA256',
    Buffer.from(`${parts[0]}.${parts[1]}`),
    key,
    Buffer.from(parts[2], 'base64url'),
  );
  if (!ok) throw new Error(`signature does not verify with kid ${header.kid} from ${jwksUrl}`);
  return { header, payload, jwk };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------
// shared assertions
// ---------------------------------------------------------------------------

/** An SDK client with no credentials, for the operations that take a token or a client ID. */
export function publicClient(server) {
  return new CognitoIdentityProviderClient({ endpoint: server.url, region: server.region, maxAttempts: 1 });
}

function assertTimes(p, label) {
  const now = nowSeconds();
  for (const k of ['iat', 'exp', 'auth_time']) {
    assert.ok(Number.isInteger(p[k]), `${label}.${k} must be an integer (epoch seconds), got ${JSON.stringify(p[k])}`);
  }
  assert.ok(p.exp > now, `${label}.exp ${p.exp} must be in the future (now ${now})`);
  assert.ok(p.exp > p.iat, `${label}.exp must be after iat`);
  assert.ok(Math.abs(p.iat - now) < 300, `${label}.iat ${p.iat} must be close to now ${now}`);
  assert.ok(p.auth_time <= p.iat, `${label}.auth_time ${p.auth_time} must not be after iat ${p.iat}`);
  assert.ok(now - p.auth_time < 3600, `${label}.auth_time ${p.auth_time} must be recent`);
}

function assertNonEmptyString(v, what) {
  assert.equal(typeof v, 'string', `${what} must be a string, got ${JSON.stringify(v)}`);
  assert.ok(v.length > 0, `${what} must not be empty`);
}

/** Claims Cognito puts in an access token issued through the API (not OAuth). */
export function assertAccessTokenClaims(p, { server, clientId, sub }) {
  assert.equal(p.token_use, 'access', 'access.token_use');
  assert.equal(p.client_id, clientId, 'access.client_id');
  assert.equal(p.sub, sub, 'access.sub');
  assert.equal(p.username, sub, 'access.username is the internal username (the sub)');
  assert.equal(p.iss, `${server.url}/${server.poolId}`, 'access.iss');
  assert.equal(p.scope, 'aws.cognito.signin.user.admin', 'access.scope');
  assert.equal(p.aud, undefined, 'an access token carries no aud');
  assertNonEmptyString(p.jti, 'access.jti');
  assertNonEmptyString(p.origin_jti, 'access.origin_jti');
  assertNonEmptyString(p.event_id, 'access.event_id');
  assertTimes(p, 'access');
}

/** Claims Cognito puts in an ID token. */
export function assertIdTokenClaims(p, { server, clientId, sub, email }) {
  assert.equal(p.token_use, 'id', 'id.token_use');
  assert.equal(p.aud, clientId, 'id.aud');
  assert.equal(p.sub, sub, 'id.sub');
  assert.equal(p['cognito:username'], sub, 'id.cognito:username');
  assert.equal(p.email, email, 'id.email');
  assert.equal(p.email_verified, true, 'id.email_verified must be the JSON boolean true');
  assert.equal(p.iss, `${server.url}/${server.poolId}`, 'id.iss');
  assertNonEmptyString(p.jti, 'id.jti');
  assertNonEmptyString(p.origin_jti, 'id.origin_jti');
  assertNonEmptyString(p.event_id, 'id.event_id');
  assertTimes(p, 'id');
}

/**
 * Amplify signIn that must be refused with NotAuthorizedException
 * "Incorrect username or password.". If it unexpectedly signs in, signs out
 * again so later tests start signed out, then fails.
 */
export async function expectSignInRefused(username, password, options) {
  let result;
  try {
    result = await signIn({ username, password, options });
  } catch (err) {
    assert.equal(err.name, 'NotAuthorizedException', `signIn error name (message: ${err.message})`);
    assert.equal(err.message, 'Incorrect username or password.');
    return err;
  }
  if (result?.isSignedIn) await signOut().catch(() => {});
  throw new Error(`signIn(${username}) was expected to be refused but returned ${clip(result)}`);
}
