// Users created by an administrator (AdminCreateUser, SigV4-signed with the
// real AWS SDK) sign in with their temporary password through Amplify, get
// CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED, and finish with confirmSignIn.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import { confirmSignIn, fetchAuthSession, getCurrentUser, signIn, signOut } from 'aws-amplify/auth';
import { AdminCreateUserCommand, AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  UUID_RE,
  adminClient,
  callsSince,
  configureAmplify,
  decodeJwt,
  expectSignInRefused,
  mark,
  outboxSnapshot,
  readOutbox,
  scenario,
  startServer,
  strongPassword,
  uniqueEmail,
  waitForMessage,
} from './harness.mjs';

let server;
let admin;

before(async () => {
  server = await startServer();
  admin = adminClient(server);
  configureAmplify(server);
});

after(async () => {
  await server?.stop();
});

const attrsOf = (list) => Object.fromEntries((list ?? []).map((a) => [a.Name, a.Value]));

async function status(username) {
  const u = await admin.send(new AdminGetUserCommand({ UserPoolId: server.poolId, Username: username }));
  return u.UserStatus;
}

// --- with a TemporaryPassword and MessageAction SUPPRESS --------------------

const a = {};
const stepA = scenario();

stepA('AdminCreateUser with TemporaryPassword and MessageAction SUPPRESS', async () => {
  a.email = uniqueEmail('admin');
  a.temp = strongPassword();
  const out = await admin.send(new AdminCreateUserCommand({
    UserPoolId: server.poolId,
    Username: a.email,
    TemporaryPassword: a.temp,
    MessageAction: 'SUPPRESS',
    UserAttributes: [
      { Name: 'email', Value: a.email },
      { Name: 'email_verified', Value: 'true' },
    ],
  }));
  assert.equal(out.User?.UserStatus, 'FORCE_CHANGE_PASSWORD');
  const attrs = attrsOf(out.User.Attributes);
  assert.equal(attrs.email, a.email);
  a.sub = attrs.sub ?? out.User.Username;
  assert.match(String(a.sub), UUID_RE, 'the user has a UUID sub');
});

stepA('the created user\'s username is its sub (email is a username attribute)', async () => {
  const u = await admin.send(new AdminGetUserCommand({ UserPoolId: server.poolId, Username: a.email }));
  assert.equal(u.Username, a.sub);
  assert.equal(attrsOf(u.UserAttributes).sub, a.sub);
}, { soft: true });

stepA('SUPPRESS sends no invitation', async () => {
  await sleep(500);
  const sent = (await readOutbox(server)).filter((e) => e.destination === a.email);
  assert.deepEqual(sent, []);
}, { soft: true });

stepA('signIn with the temporary password -> CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED', async () => {
  const m = mark();
  const r = await signIn({ username: a.email, password: a.temp });
  assert.equal(r.isSignedIn, false, `signIn result ${JSON.stringify(r)}`);
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED');
  const rtac = callsSince(m, 'RespondToAuthChallenge');
  assert.equal(rtac.at(-1)?.response?.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  assert.ok(rtac.at(-1)?.response?.Session, 'the challenge carries a Session');
});

stepA('confirmSignIn({challengeResponse: newPassword}) -> DONE and signed in', async () => {
  a.password = strongPassword();
  const m = mark();
  const r = await confirmSignIn({ challengeResponse: a.password });
  assert.equal(r.isSignedIn, true, `confirmSignIn result ${JSON.stringify(r)}`);
  assert.equal(r.nextStep.signInStep, 'DONE');
  const rtac = callsSince(m, 'RespondToAuthChallenge');
  assert.equal(rtac.length, 1);
  assert.equal(rtac[0].request.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  assert.equal(rtac[0].request.ChallengeResponses?.NEW_PASSWORD, a.password);
  const session = await fetchAuthSession();
  const access = decodeJwt(session.tokens.accessToken.toString()).payload;
  const id = decodeJwt(session.tokens.idToken.toString()).payload;
  assert.equal(access.sub, a.sub);
  assert.equal(access.client_id, server.clientId);
  assert.equal(id.email, a.email);
  const u = await getCurrentUser();
  assert.equal(u.username, a.sub);
});

stepA('the user is now CONFIRMED', async () => {
  assert.equal(await status(a.email), 'CONFIRMED');
});

stepA('the temporary password is refused afterwards and the new one works', async () => {
  await signOut();
  await expectSignInRefused(a.email, a.temp);
  const r = await signIn({ username: a.email, password: a.password });
  assert.equal(r.isSignedIn, true);
  assert.equal(r.nextStep.signInStep, 'DONE');
  await signOut();
});

// --- without a TemporaryPassword: the server generates one and mails it ----

const b = {};
const stepB = scenario();

stepB('AdminCreateUser without TemporaryPassword mails an admin_create_user message', async () => {
  b.email = uniqueEmail('invited');
  const before = await outboxSnapshot(server);
  const out = await admin.send(new AdminCreateUserCommand({
    UserPoolId: server.poolId,
    Username: b.email,
    UserAttributes: [
      { Name: 'email', Value: b.email },
      { Name: 'email_verified', Value: 'true' },
    ],
    DesiredDeliveryMediums: ['EMAIL'],
  }));
  assert.equal(out.User?.UserStatus, 'FORCE_CHANGE_PASSWORD');
  const entry = await waitForMessage(server, { destination: b.email, kind: 'admin_create_user', exclude: before });
  assert.ok(entry.code, 'the message carries the temporary password');
  b.temp = entry.code;
});

stepB('signIn with the mailed temporary password -> new password required -> confirmSignIn -> DONE', async () => {
  const r = await signIn({ username: b.email, password: b.temp });
  assert.equal(r.isSignedIn, false, `signIn result ${JSON.stringify(r)}`);
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED');
  b.password = strongPassword();
  const c = await confirmSignIn({ challengeResponse: b.password });
  assert.equal(c.isSignedIn, true, `confirmSignIn result ${JSON.stringify(c)}`);
  assert.equal(c.nextStep.signInStep, 'DONE');
  assert.equal(await status(b.email), 'CONFIRMED');
  await signOut();
});

stepB('a weak new password at confirmSignIn is refused with InvalidPasswordException', async () => {
  const email = uniqueEmail('weaknew');
  const temp = strongPassword();
  await admin.send(new AdminCreateUserCommand({
    UserPoolId: server.poolId,
    Username: email,
    TemporaryPassword: temp,
    MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }],
  }));
  const r = await signIn({ username: email, password: temp });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED');
  await assert.rejects(confirmSignIn({ challengeResponse: 'weak' }), (err) => {
    assert.equal(err.name, 'InvalidPasswordException', err.message);
    return true;
  });
  assert.equal(await status(email), 'FORCE_CHANGE_PASSWORD');
}, { soft: true });
