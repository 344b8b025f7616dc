// Sign-in error paths through the real Amplify client.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  confirmResetPassword,
  confirmSignUp,
  fetchAuthSession,
  getCurrentUser,
  resendSignUpCode,
  resetPassword,
  signIn,
  signOut,
  signUp,
} from 'aws-amplify/auth';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  callsSince,
  check,
  configureAmplify,
  expectError,
  expectSignInRefused,
  mark,
  outboxSnapshot,
  readOutbox,
  startServer,
  strongPassword,
  uniqueEmail,
  waitForCode,
  wrongCode,
} from './harness.mjs';

let server;
const user = {};

before(async () => {
  server = await startServer();
  configureAmplify(server);
  user.email = uniqueEmail();
  user.password = strongPassword();
  const snap = await outboxSnapshot(server);
  await signUp({ username: user.email, password: user.password, options: { userAttributes: { email: user.email } } });
  const code = await waitForCode(server, { destination: user.email, kind: 'sign_up', exclude: snap });
  await confirmSignUp({ username: user.email, confirmationCode: code });
});

after(async () => {
  await server?.stop();
});

check('SRP signIn with a wrong password fails with NotAuthorizedException "Incorrect username or password."', async () => {
  const m = mark();
  await expectSignInRefused(user.email, `${user.password}x`);
  const rtac = callsSince(m, 'RespondToAuthChallenge');
  assert.equal(rtac.length, 1, 'the password is checked at PASSWORD_VERIFIER');
  assert.equal(rtac[0].status, 400);
  assert.equal(rtac[0].errorType, 'NotAuthorizedException');
  await assert.rejects(getCurrentUser(), { name: 'UserUnAuthenticatedException' });
});

check('USER_PASSWORD_AUTH signIn with a wrong password fails with NotAuthorizedException', async () => {
  await expectSignInRefused(user.email, `${user.password}x`, { authFlowType: 'USER_PASSWORD_AUTH' });
});

check('SRP signIn of an unknown email fails like a wrong password (PreventUserExistenceErrors)', async () => {
  await expectSignInRefused(uniqueEmail('nobody'), strongPassword());
});

check('USER_PASSWORD_AUTH signIn of an unknown email fails like a wrong password', async () => {
  await expectSignInRefused(uniqueEmail('nobody'), strongPassword(), { authFlowType: 'USER_PASSWORD_AUTH' });
});

check('after failed attempts the right password still signs in', async () => {
  const r = await signIn({ username: user.email, password: user.password });
  assert.equal(r.isSignedIn, true);
  const session = await fetchAuthSession();
  assert.ok(session.tokens?.accessToken);
  await signOut();
});

check('signIn while already signed in is refused locally by Amplify (UserAlreadyAuthenticatedException)', async () => {
  const r = await signIn({ username: user.email, password: user.password });
  assert.equal(r.isSignedIn, true);
  const err = await expectError(() => signIn({ username: user.email, password: user.password }), 'second signIn');
  assert.equal(err.name, 'UserAlreadyAuthenticatedException');
  await signOut();
  await assert.rejects(getCurrentUser(), { name: 'UserUnAuthenticatedException' });
});

// PreventUserExistenceErrors: ENABLED also covers account recovery and
// confirmation: the answer for an unknown user looks like the answer for a
// real one, and nothing is sent.

check('resetPassword of an unknown email answers like a real one and sends nothing', async () => {
  const email = uniqueEmail('ghost');
  const r = await resetPassword({ username: email });
  assert.equal(r.isPasswordReset, false);
  assert.equal(r.nextStep.resetPasswordStep, 'CONFIRM_RESET_PASSWORD_WITH_CODE');
  assert.equal(r.nextStep.codeDeliveryDetails?.deliveryMedium, 'EMAIL');
  await sleep(300);
  const sent = (await readOutbox(server)).filter((e) => e.destination === email);
  assert.deepEqual(sent, []);
});

check('confirmResetPassword of an unknown email fails with CodeMismatchException', async () => {
  const err = await expectError(
    () => confirmResetPassword({ username: uniqueEmail('ghost'), confirmationCode: '123456', newPassword: strongPassword() }),
    'confirmResetPassword of an unknown user',
  );
  assert.equal(err.name, 'CodeMismatchException', err.message);
});

check('confirmResetPassword of a real user with a wrong code fails with CodeMismatchException', async () => {
  const snap = await outboxSnapshot(server);
  await resetPassword({ username: user.email });
  const code = await waitForCode(server, { destination: user.email, kind: 'forgot_password', exclude: snap });
  const err = await expectError(
    () => confirmResetPassword({ username: user.email, confirmationCode: wrongCode(code), newPassword: strongPassword() }),
    'confirmResetPassword with a wrong code',
  );
  assert.equal(err.name, 'CodeMismatchException', err.message);
  // The password did not change.
  const r = await signIn({ username: user.email, password: user.password });
  assert.equal(r.isSignedIn, true);
  await signOut();
});

check('resendSignUpCode of an unknown email answers like a real one and sends nothing', async () => {
  const email = uniqueEmail('ghost');
  const r = await resendSignUpCode({ username: email });
  assert.equal(r.deliveryMedium, 'EMAIL');
  await sleep(300);
  const sent = (await readOutbox(server)).filter((e) => e.destination === email);
  assert.deepEqual(sent, []);
});
