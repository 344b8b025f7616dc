// signUp with autoSignIn: after confirmSignUp, Amplify signs the user in
// with the password it kept (default SRP flow).

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import { autoSignIn, confirmSignUp, fetchAuthSession, getCurrentUser, signOut, signUp } from 'aws-amplify/auth';

import {
  callsSince,
  configureAmplify,
  decodeJwt,
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
  configureAmplify(server);
});

after(async () => {
  await server?.stop();
});

step('signUp with autoSignIn: true still asks for CONFIRM_SIGN_UP', async () => {
  s.email = uniqueEmail('auto');
  s.password = strongPassword();
  const before = await outboxSnapshot(server);
  // signUp with autoSignIn starts a 3-minute setTimeout that Amplify never
  // clears, which would keep this process alive for 3 minutes after the
  // tests. Unref long timers created during the call.
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = (fn, ms, ...args) => {
    const timer = realSetTimeout(fn, ms, ...args);
    if (ms >= 60_000) timer.unref?.();
    return timer;
  };
  let r;
  try {
    r = await signUp({
      username: s.email,
      password: s.password,
      options: { userAttributes: { email: s.email }, autoSignIn: true },
    });
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  assert.equal(r.isSignUpComplete, false);
  assert.equal(r.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
  s.sub = r.userId;
  s.code = await waitForCode(server, { destination: s.email, kind: 'sign_up', exclude: before });
});

step('confirmSignUp returns COMPLETE_AUTO_SIGN_IN', async () => {
  const r = await confirmSignUp({ username: s.email, confirmationCode: s.code });
  assert.equal(r.isSignUpComplete, true);
  assert.equal(r.nextStep.signUpStep, 'COMPLETE_AUTO_SIGN_IN');
});

step('autoSignIn() signs the user in', async () => {
  const m = mark();
  const r = await autoSignIn();
  assert.equal(r.isSignedIn, true, `autoSignIn result ${JSON.stringify(r)}`);
  assert.equal(r.nextStep.signInStep, 'DONE');
  assert.ok(callsSince(m, 'InitiateAuth').length >= 1, 'autoSignIn ran a sign-in');
  const u = await getCurrentUser();
  assert.equal(u.userId, s.sub);
  const session = await fetchAuthSession();
  const id = decodeJwt(session.tokens.idToken.toString()).payload;
  assert.equal(id.email, s.email);
  assert.equal(id.email_verified, true);
  await signOut();
});
