// The real adapter (runWithAmplifyServerContext, the server-side
// getCurrentUser and fetchAuthSession) against a real `cognate serve`,
// through createServerRunner and refreshInProxy.

import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, test } from 'node:test';

import { fetchAuthSession, getCurrentUser } from 'aws-amplify/auth/server';
import { NextResponse } from 'next/server.js';

import { createServerRunner } from '../index.js';
import { appRequest, cookieHeader, decodeJwt, keyOf, signedInUser, startServer } from './harness.mjs';

// Every token lives 30 s: within the proxy's default 60 s margin.
let server;
let user;
let runner;
const requests = []; // every URL fetched in this process

before(async () => {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    requests.push({ url: String(input?.url ?? input), target: new Headers(init?.headers ?? input?.headers).get('x-amz-target') });
    return realFetch(input, init);
  };
  server = await startServer(['--token-lifetime', '30s']);
  user = await signedInUser(server);
  runner = createServerRunner({ config: server.outputs });
});

after(() => server?.cognate.stop());

/** Runs operation in the adapter's context of a middleware request carrying cookie. */
function run(cookie, operation) {
  return runner.runWithAmplifyServerContext({
    nextServerContext: { request: appRequest(cookie), response: NextResponse.next() },
    operation,
  });
}

/** An RS256 JWT over payload signed by a key of our own. */
function forge(header, payload) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg: 'RS256', typ: 'JWT', ...header })}.${enc(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

function withCookie(k, value) {
  return cookieHeader(new Map([...user.storage, [keyOf(user.storage, k), value]]));
}

test('server-side getCurrentUser and fetchAuthSession see the user Amplify signed in', async () => {
  const { issuer } = server.outputs.custom.cognate;
  const current = await run(cookieHeader(user.storage), (ctx) => getCurrentUser(ctx));
  const { tokens } = await run(cookieHeader(user.storage), (ctx) => fetchAuthSession(ctx));
  assert.equal(tokens.accessToken.payload.iss, issuer);
  assert.equal(current.userId, tokens.accessToken.payload.sub);
  assert.equal(tokens.idToken.payload.email, user.email);
  assert.ok(requests.some((r) => r.url === `${issuer}/.well-known/jwks.json`), 'the key set came from Cognate over http');
});

test("a token signed by another key, with Cognate's issuer and key id, is refused", async () => {
  const real = user.storage.get(keyOf(user.storage, 'accessToken'));
  const forged = forge({ kid: JSON.parse(Buffer.from(real.split('.')[0], 'base64url')).kid }, decodeJwt(real));
  await assert.rejects(run(withCookie('accessToken', forged), (ctx) => getCurrentUser(ctx)), { name: 'UserUnAuthenticatedException' });
});

test("a token claiming Amazon Cognito's issuer for the pool, or any other, is refused without fetching its keys", async () => {
  const realId = decodeJwt(user.storage.get(keyOf(user.storage, 'idToken')));
  const pool = server.outputs.auth.user_pool_id;
  for (const iss of [`https://cognito-idp.us-east-1.amazonaws.com/${pool}`, `http://127.0.0.1:1/${pool}`]) {
    const seen = requests.length;
    const { tokens } = await run(withCookie('idToken', forge({ kid: 'k' }, { ...realId, iss })), (ctx) => fetchAuthSession(ctx));
    assert.equal(tokens.idToken, undefined, iss);
    assert.ok(tokens.accessToken, 'the genuine access token still counts');
    assert.deepEqual(requests.slice(seen).filter((r) => !r.url.startsWith(server.outputs.custom.cognate.issuer)), [], iss);
  }
});

test('refreshInProxy refreshes a session about to expire, sets no-store cookies and rewrites the request Cookie header', async () => {
  await new Promise((r) => setTimeout(r, 1100)); // a new iat
  const oldAccess = user.storage.get(keyOf(user.storage, 'accessToken'));
  const seen = requests.length;
  const request = appRequest(`theme=dark; ${cookieHeader(user.storage)}`);
  const [{ response, tokens }, twin] = await Promise.all([runner.refreshInProxy(request), runner.refreshInProxy(request)]);
  assert.equal(requests.slice(seen).filter((r) => r.target?.endsWith('.GetTokensFromRefreshToken')).length, 1,
    'two requests at once refresh once');
  assert.equal(twin.tokens.accessToken.toString(), tokens.accessToken.toString());

  const fresh = tokens.accessToken.toString();
  assert.notEqual(fresh, oldAccess);
  const accessName = encodeURIComponent(keyOf(user.storage, 'accessToken'));
  assert.equal(response.cookies.get(accessName)?.value, fresh);
  assert.equal(response.headers.get('cache-control'), 'private, no-store');

  // What NextResponse.next({ request: { headers } }) hands the render.
  assert.match(response.headers.get('x-middleware-override-headers'), /(^|,)cookie(,|$)/);
  const rewritten = response.headers.get('x-middleware-request-cookie');
  assert.ok(rewritten.startsWith('theme=dark; '), rewritten);
  assert.ok(rewritten.includes(`${accessName}=${fresh}`) && !rewritten.includes(oldAccess), rewritten);
  const seenByRender = await run(rewritten, (ctx) => fetchAuthSession(ctx));
  assert.equal(seenByRender.tokens.accessToken.toString(), fresh);
});

test('refreshInProxy leaves a session alone outside its margin, and a request without a session', async () => {
  const fresh = await runner.refreshInProxy(appRequest(cookieHeader(user.storage)), { margin: 5 });
  assert.ok(fresh.tokens.accessToken);
  assert.deepEqual(fresh.response.cookies.getAll(), []);
  assert.equal(fresh.response.headers.get('x-middleware-override-headers'), null);
  assert.equal(fresh.response.headers.get('cache-control'), null);

  const none = await runner.refreshInProxy(appRequest('theme=dark'));
  assert.equal(none.tokens, undefined);
  assert.deepEqual(none.response.cookies.getAll(), []);
});
