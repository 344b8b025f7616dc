// The `web` app client exactly as the server ships it, used by Amplify with its
// own default storage (Node has no window.localStorage, so Amplify falls back
// to its in-memory storage): sign-up, sign-in, and token refresh through
// fetchAuthSession({forceRefresh:true}) with whatever rotation setting the
// client has.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  confirmSignUp,
  fetchAuthSession,
  fetchUserAttributes,
  getCurrentUser,
  signIn,
  signOut,
  signUp,
} from 'aws-amplify/auth';
import { defaultStorage } from 'aws-amplify/utils';

import {
  callsSince,
  configureAmplify,
  decodeJwt,
  expectError,
  mark,
  outboxSnapshot,
  scenario,
  startServer,
  strongPassword,
  uniqueEmail,
  waitForCode,
} from './harness.mjs';

let server;
const step = scenario();
const s = {};

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

async function tokens() {
  const session = await fetchAuthSession();
  assert.ok(session.tokens?.accessToken && session.tokens?.idToken, 'session has tokens');
  const access = session.tokens.accessToken.toString();
  const id = session.tokens.idToken.toString();
  return { access, id, a: decodeJwt(access).payload, i: decodeJwt(id).payload };
}

step('Amplify is configured with its default storage (no localStorage in Node)', () => {
  assert.equal(typeof globalThis.window, 'undefined', 'this runs without a window');
  assert.equal(configureAmplify(server, { storage: 'default' }), null);
  // DefaultStorage wraps window.localStorage when there is one, else
  // Amplify's InMemoryStorage.
  assert.equal(defaultStorage.storage?.constructor?.name, 'InMemoryStorage');
  s.email = uniqueEmail('web');
  s.password = strongPassword();
});

step('signUp + confirmSignUp through the web client', async () => {
  const before = await outboxSnapshot(server);
  const r = await signUp({ username: s.email, password: s.password, options: { userAttributes: { email: s.email } } });
  assert.equal(r.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
  s.sub = r.userId;
  const code = await waitForCode(server, { destination: s.email, kind: 'sign_up', exclude: before });
  const c = await confirmSignUp({ username: s.email, confirmationCode: code });
  assert.equal(c.isSignUpComplete, true);
});

step('signIn and fetchAuthSession work with the default (in-memory fallback) storage', async () => {
  const r = await signIn({ username: s.email, password: s.password });
  assert.equal(r.isSignedIn, true, `signIn result ${JSON.stringify(r)}`);
  const t = await tokens();
  assert.equal(t.a.client_id, server.clientId);
  assert.equal(t.i.aud, server.clientId);
  assert.equal(t.a.sub, s.sub);
  // The tokens really are in Amplify's default storage, under the username
  // that the SRP challenge named (ChallengeParameters.USERNAME).
  s.keyUser = await defaultStorage.getItem(`CognitoIdentityServiceProvider.${server.clientId}.LastAuthUser`);
  assert.ok(s.keyUser, 'LastAuthUser is in default storage');
  s.key = (name) => `CognitoIdentityServiceProvider.${server.clientId}.${s.keyUser}.${name}`;
  assert.equal(await defaultStorage.getItem(s.key('accessToken')), t.access);
  s.refreshToken = await defaultStorage.getItem(s.key('refreshToken'));
  assert.ok(s.refreshToken, 'refresh token stored');
  s.t0 = t;
});

step('the SRP challenge named the user by its sub (Amplify stores tokens under it)', () => {
  assert.equal(s.keyUser, s.sub);
}, { soft: true });

async function refreshOnce(prev, prevRefresh) {
  const m = mark();
  const session = await fetchAuthSession({ forceRefresh: true });
  assert.ok(session.tokens?.accessToken, 'forceRefresh returned tokens');
  const calls = callsSince(m, 'GetTokensFromRefreshToken');
  assert.equal(calls.length, 1, 'one GetTokensFromRefreshToken call');
  assert.equal(calls[0].request.ClientId, server.clientId);
  assert.equal(calls[0].request.RefreshToken, prevRefresh);
  assert.equal(calls[0].status, 200, `GetTokensFromRefreshToken answered ${calls[0].status} ${JSON.stringify(calls[0].response)}`);
  assert.equal(callsSince(m, 'InitiateAuth').length, 0);
  const t = await tokens();
  assert.notEqual(t.a.jti, prev.a.jti, 'new access jti');
  assert.notEqual(t.i.jti, prev.i.jti, 'new ID jti');
  assert.equal(t.a.sub, s.sub);
  assert.equal(t.a.client_id, server.clientId);
  assert.equal(t.a.token_use, 'access');
  assert.equal(t.i.token_use, 'id');
  assert.equal(t.i.email, s.email);
  assert.equal(t.a.auth_time, prev.a.auth_time, 'auth_time stays at the sign-in time');
  const rotated = calls[0].response.AuthenticationResult?.RefreshToken;
  const stored = await defaultStorage.getItem(s.key('refreshToken'));
  assert.equal(stored, rotated ?? prevRefresh, 'Amplify keeps the old refresh token unless a new one came back');
  return { t, refresh: stored, rotated: Boolean(rotated) };
}

step('fetchAuthSession({forceRefresh:true}) refreshes through GetTokensFromRefreshToken', async () => {
  const r = await refreshOnce(s.t0, s.refreshToken);
  s.t1 = r.t;
  s.refresh1 = r.refresh;
  s.rotates = r.rotated;
});

step('without rotation the refreshed tokens keep origin_jti', () => {
  if (s.rotates) {
    assert.notEqual(s.refresh1, s.refreshToken, 'a returned refresh token is a new one');
    return;
  }
  assert.equal(s.t1.a.origin_jti, s.t0.a.origin_jti);
}, { soft: true });

step('a second forced refresh works too', async () => {
  const r = await refreshOnce(s.t1, s.refresh1);
  s.t2 = r.t;
});

step('the refreshed access token is accepted (fetchUserAttributes)', async () => {
  const a = await fetchUserAttributes();
  assert.equal(a.email, s.email);
  assert.equal(a.sub, s.sub);
});

step('signOut clears the default storage', async () => {
  await signOut();
  const err = await expectError(() => getCurrentUser(), 'getCurrentUser after signOut');
  assert.equal(err.name, 'UserUnAuthenticatedException');
  assert.equal(await defaultStorage.getItem(s.key('accessToken')), null);
  assert.equal(await defaultStorage.getItem(s.key('refreshToken')), null);
});
