// Choice-based sign-in (authFlowType 'USER_AUTH') with the real Amplify:
// SELECT_CHALLENGE, preferred challenges (EMAIL_OTP, SMS_OTP, PASSWORD,
// PASSWORD_SRP), codes read from the dev outbox, and a sign-up without a
// password followed by autoSignIn, on a pool whose sign-in policy allows
// the password and email and SMS codes.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import { Amplify } from 'aws-amplify';
import {
  autoSignIn, confirmSignIn, confirmSignUp, fetchAuthSession, getCurrentUser, signIn, signOut, signUp,
} from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, CreateUserPoolClientCommand, CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  adminClient, callsSince, decodeJwt, mark, MemoryKeyValueStorage, outboxSnapshot, scenario, startServer,
  strongPassword, uniqueEmail, waitForCode,
} from './harness.mjs';

let server;
const step = scenario();
const s = {};

before(async () => {
  server = await startServer();
  const admin = adminClient(server);
  const pool = await admin.send(new CreateUserPoolCommand({
    PoolName: 'userauth',
    UsernameAttributes: ['email'],
    AutoVerifiedAttributes: ['email'],
    Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'EMAIL_OTP', 'SMS_OTP'] } },
  }));
  s.poolId = pool.UserPool.Id;
  const client = await admin.send(new CreateUserPoolClientCommand({
    UserPoolId: s.poolId,
    ClientName: 'userauth',
    ExplicitAuthFlows: ['ALLOW_USER_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }));
  s.clientId = client.UserPoolClient.ClientId;
  Amplify.configure({
    Auth: { Cognito: { userPoolId: s.poolId, userPoolClientId: s.clientId, userPoolEndpoint: server.url, loginWith: { email: true } } },
  });
  cognitoUserPoolsTokenProvider.setKeyValueStorage(new MemoryKeyValueStorage());

  s.email = uniqueEmail('ua');
  s.phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  s.password = strongPassword();
  const user = await admin.send(new AdminCreateUserCommand({
    UserPoolId: s.poolId,
    Username: s.email,
    MessageAction: 'SUPPRESS',
    UserAttributes: [
      { Name: 'email_verified', Value: 'true' },
      { Name: 'phone_number', Value: s.phone },
      { Name: 'phone_number_verified', Value: 'true' },
    ],
  }));
  s.sub = user.User.Username;
  await admin.send(new AdminSetUserPasswordCommand({
    UserPoolId: s.poolId, Username: s.sub, Password: s.password, Permanent: true,
  }));
});

after(async () => {
  await server?.stop();
});

/** Checks that Amplify holds tokens for the user, then signs out. */
async function signedInAs(sub) {
  const u = await getCurrentUser();
  assert.equal(u.userId, sub);
  const session = await fetchAuthSession();
  assert.equal(decodeJwt(session.tokens.accessToken.toString()).payload.username, sub);
  await signOut();
}

step('signIn USER_AUTH without a preference offers the first factors (SELECT_CHALLENGE)', async () => {
  const m = mark();
  const r = await signIn({ username: s.email, options: { authFlowType: 'USER_AUTH' } });
  assert.equal(r.isSignedIn, false);
  assert.equal(r.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION');
  assert.deepEqual([...r.nextStep.availableChallenges].sort(), ['EMAIL_OTP', 'PASSWORD', 'PASSWORD_SRP', 'SMS_OTP']);
  assert.equal(callsSince(m, 'InitiateAuth')[0].request.AuthFlow, 'USER_AUTH');
});

step('confirmSignIn EMAIL_OTP, then the emailed code, signs in', async () => {
  const before = await outboxSnapshot(server);
  const r = await confirmSignIn({ challengeResponse: 'EMAIL_OTP' });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
  assert.equal(r.nextStep.codeDeliveryDetails.deliveryMedium, 'EMAIL');
  const code = await waitForCode(server, { destination: s.email, kind: 'sign_in_code', exclude: before });
  assert.match(code, /^\d{8}$/);
  const done = await confirmSignIn({ challengeResponse: code });
  assert.equal(done.isSignedIn, true);
  assert.equal(done.nextStep.signInStep, 'DONE');
  await signedInAs(s.sub);
});

step('a wrong email code is refused with CodeMismatchException, the right one then signs in', async () => {
  const before = await outboxSnapshot(server);
  const r = await signIn({ username: s.email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' } });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
  const code = await waitForCode(server, { destination: s.email, kind: 'sign_in_code', exclude: before });
  const wrong = String((Number(code) + 1) % 1e8).padStart(8, '0');
  await assert.rejects(confirmSignIn({ challengeResponse: wrong }), { name: 'CodeMismatchException' });
  const done = await confirmSignIn({ challengeResponse: code });
  assert.equal(done.nextStep.signInStep, 'DONE');
  await signedInAs(s.sub);
});

step('preferredChallenge SMS_OTP: the code from the outbox signs in', async () => {
  const before = await outboxSnapshot(server);
  const r = await signIn({ username: s.email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'SMS_OTP' } });
  assert.equal(r.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_SMS_CODE');
  assert.equal(r.nextStep.codeDeliveryDetails.deliveryMedium, 'SMS');
  assert.equal(r.nextStep.codeDeliveryDetails.destination, `+*******${s.phone.slice(-4)}`);
  const code = await waitForCode(server, { destination: s.phone, kind: 'sign_in_code', exclude: before });
  const done = await confirmSignIn({ challengeResponse: code });
  assert.equal(done.nextStep.signInStep, 'DONE');
  await signedInAs(s.sub);
});

step('preferredChallenge PASSWORD_SRP signs in with SRP', async () => {
  const m = mark();
  const r = await signIn({ username: s.email, password: s.password, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'PASSWORD_SRP' } });
  assert.equal(r.nextStep.signInStep, 'DONE');
  assert.equal(callsSince(m, 'RespondToAuthChallenge')[0].request.ChallengeName, 'PASSWORD_VERIFIER');
  await signedInAs(s.sub);
});

step('preferredChallenge PASSWORD signs in at once', async () => {
  const m = mark();
  const r = await signIn({ username: s.email, password: s.password, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'PASSWORD' } });
  assert.equal(r.nextStep.signInStep, 'DONE');
  assert.equal(callsSince(m, 'RespondToAuthChallenge').length, 0);
  await signedInAs(s.sub);
});

step('SELECT_CHALLENGE, then PASSWORD and the password', async () => {
  const r = await signIn({ username: s.email, options: { authFlowType: 'USER_AUTH' } });
  assert.equal(r.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION');
  const pw = await confirmSignIn({ challengeResponse: 'PASSWORD' });
  assert.equal(pw.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_PASSWORD');
  const done = await confirmSignIn({ challengeResponse: s.password });
  assert.equal(done.nextStep.signInStep, 'DONE');
  await signedInAs(s.sub);
});

step('signUp without a password, confirmSignUp, then autoSignIn with the sign-up Session', async () => {
  const email = uniqueEmail('nopw');
  const before = await outboxSnapshot(server);
  // signUp with autoSignIn starts a 3-minute setTimeout that Amplify never
  // clears; unref long timers so the process can end.
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = (fn, ms, ...args) => {
    const timer = realSetTimeout(fn, ms, ...args);
    if (ms >= 60_000) timer.unref?.();
    return timer;
  };
  let up;
  try {
    up = await signUp({ username: email, options: { autoSignIn: { authFlowType: 'USER_AUTH' } } });
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  assert.equal(up.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
  const code = await waitForCode(server, { destination: email, kind: 'sign_up', exclude: before });
  const conf = await confirmSignUp({ username: email, confirmationCode: code });
  assert.equal(conf.nextStep.signUpStep, 'COMPLETE_AUTO_SIGN_IN');
  const m = mark();
  const r = await autoSignIn();
  assert.equal(r.isSignedIn, true, `autoSignIn result ${JSON.stringify(r)}`);
  const init = callsSince(m, 'InitiateAuth')[0].request;
  assert.equal(init.AuthFlow, 'USER_AUTH');
  assert.ok(init.Session, 'autoSignIn sent the Session of ConfirmSignUp');
  assert.equal(init.AuthParameters.PASSWORD, undefined);
  await signedInAs(up.userId);
});
