// Sign-up error paths through the real Amplify client: unconfirmed sign-in,
// duplicate email, wrong confirmation code, weak passwords, resending the code.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  confirmSignUp,
  getCurrentUser,
  resendSignUpCode,
  signIn,
  signOut,
  signUp,
} from 'aws-amplify/auth';
import { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';

import {
  adminClient,
  callsSince,
  check,
  configureAmplify,
  expectError,
  mark,
  outboxSnapshot,
  startServer,
  strongPassword,
  uniqueEmail,
  waitForCode,
  waitForMessage,
  wrongCode,
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

/** Amplify signUp; returns { email, password, code, userId }. */
async function signUpUser({ email = uniqueEmail(), password = strongPassword() } = {}) {
  const before = await outboxSnapshot(server);
  const r = await signUp({ username: email, password, options: { userAttributes: { email } } });
  assert.equal(r.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
  const code = await waitForCode(server, { destination: email, kind: 'sign_up', exclude: before });
  return { email, password, code, userId: r.userId };
}

async function signUpConfirmed(opts) {
  const u = await signUpUser(opts);
  const c = await confirmSignUp({ username: u.email, confirmationCode: u.code });
  assert.equal(c.isSignUpComplete, true);
  return u;
}

async function userStatus(username) {
  const u = await admin.send(new AdminGetUserCommand({ UserPoolId: server.poolId, Username: username }));
  return u.UserStatus;
}

check('sign-up codes are 6 digits and the outbox entry names the pool and the user', async () => {
  const before = await outboxSnapshot(server);
  const email = uniqueEmail();
  const r = await signUp({ username: email, password: strongPassword(), options: { userAttributes: { email } } });
  const entry = await waitForMessage(server, { destination: email, kind: 'sign_up', exclude: before });
  assert.match(String(entry.code), /^\d{6}$/);
  assert.equal(entry.pool_id, server.poolId);
  assert.equal(entry.username, r.userId, 'outbox username is the internal username (the sub)');
});

check('a +tagged email signs up, gets its code at that exact address and confirms', async () => {
  const email = uniqueEmail('tag.x');
  const u = await signUpUser({ email });
  const c = await confirmSignUp({ username: email, confirmationCode: u.code });
  assert.equal(c.isSignUpComplete, true);
  assert.equal(await userStatus(email), 'CONFIRMED');
});

check('signIn (SRP) of an unconfirmed user returns nextStep CONFIRM_SIGN_UP', async () => {
  const u = await signUpUser();
  const m = mark();
  const r = await signIn({ username: u.email, password: u.password });
  assert.equal(r.isSignedIn, false);
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_UP');
  const errs = callsSince(m).filter((c) => c.status >= 400);
  assert.equal(errs.at(-1)?.errorType, 'UserNotConfirmedException');
  await assert.rejects(getCurrentUser(), { name: 'UserUnAuthenticatedException' });
});

check('signIn (USER_PASSWORD_AUTH) of an unconfirmed user returns nextStep CONFIRM_SIGN_UP', async () => {
  const u = await signUpUser();
  const r = await signIn({ username: u.email, password: u.password, options: { authFlowType: 'USER_PASSWORD_AUTH' } });
  assert.equal(r.isSignedIn, false);
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_UP');
});

check('signUp of an already confirmed email fails with UsernameExistsException', async () => {
  const u = await signUpConfirmed();
  const err = await expectError(
    () => signUp({ username: u.email, password: strongPassword(), options: { userAttributes: { email: u.email } } }),
    'second signUp',
  );
  assert.equal(err.name, 'UsernameExistsException', err.message);
  assert.match(err.message, /exist/i);
  // The original account is untouched.
  const r = await signIn({ username: u.email, password: u.password });
  assert.equal(r.isSignedIn, true);
  await signOut();
});

check('signUp of an email that is still unconfirmed fails with UsernameExistsException', async () => {
  const u = await signUpUser();
  const err = await expectError(
    () => signUp({ username: u.email, password: strongPassword(), options: { userAttributes: { email: u.email } } }),
    'second signUp',
  );
  assert.equal(err.name, 'UsernameExistsException', err.message);
});

check('confirmSignUp with a wrong code fails with CodeMismatchException; the right code still works', async () => {
  const u = await signUpUser();
  const err = await expectError(
    () => confirmSignUp({ username: u.email, confirmationCode: wrongCode(u.code) }),
    'confirmSignUp with a wrong code',
  );
  assert.equal(err.name, 'CodeMismatchException', err.message);
  assert.equal(await userStatus(u.email), 'UNCONFIRMED');
  const c = await confirmSignUp({ username: u.email, confirmationCode: u.code });
  assert.equal(c.isSignUpComplete, true);
  assert.equal(await userStatus(u.email), 'CONFIRMED');
});

const weakPasswords = [
  ['too short', 'Ab1!xyz'],
  ['no uppercase', 'lowercase1!only'],
  ['no lowercase', 'UPPERCASE1!ONLY'],
  ['no number', 'NoNumbers!Here'],
  ['no symbol', 'NoSymbols123Here'],
];

for (const [why, password] of weakPasswords) {
  check(`signUp with a weak password (${why}) fails with InvalidPasswordException naming the policy`, async () => {
    const email = uniqueEmail();
    const err = await expectError(
      () => signUp({ username: email, password, options: { userAttributes: { email } } }),
      'signUp with a weak password',
    );
    assert.equal(err.name, 'InvalidPasswordException', err.message);
    assert.match(err.message, /polic/i, 'the message mentions the password policy');
    const e2 = await expectError(
      () => admin.send(new AdminGetUserCommand({ UserPoolId: server.poolId, Username: email })),
      'AdminGetUser of a user whose sign-up was refused',
    );
    assert.equal(e2.name, 'UserNotFoundException', 'no user was created');
  });
}

check('after a weak-password refusal the same email can sign up with a strong password', async () => {
  const email = uniqueEmail();
  await expectError(
    () => signUp({ username: email, password: 'weak', options: { userAttributes: { email } } }),
    'signUp with a weak password',
  );
  const u = await signUpConfirmed({ email });
  assert.equal(await userStatus(u.email), 'CONFIRMED');
});

check('resendSignUpCode delivers a new code and the old one no longer works', async () => {
  const u = await signUpUser();
  const before = await outboxSnapshot(server);
  const r = await resendSignUpCode({ username: u.email });
  assert.equal(r.deliveryMedium, 'EMAIL');
  assert.equal(r.attributeName, 'email');
  assert.ok(r.destination, 'destination is set');
  const newCode = await waitForCode(server, { destination: u.email, kind: 'sign_up', exclude: before });
  assert.notEqual(newCode, u.code, 'the resent code is a new code');
  const err = await expectError(
    () => confirmSignUp({ username: u.email, confirmationCode: u.code }),
    'confirmSignUp with the superseded code',
  );
  assert.ok(['CodeMismatchException', 'ExpiredCodeException'].includes(err.name), `${err.name}: ${err.message}`);
  assert.equal(await userStatus(u.email), 'UNCONFIRMED');
  const c = await confirmSignUp({ username: u.email, confirmationCode: newCode });
  assert.equal(c.isSignUpComplete, true);
  const s = await signIn({ username: u.email, password: u.password });
  assert.equal(s.isSignedIn, true);
  await signOut();
});
