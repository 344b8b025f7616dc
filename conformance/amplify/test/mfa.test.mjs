// Multi-factor authentication through the real Amplify v6 Auth client:
// setUpTOTP → verifyTOTPSetup → updateMFAPreference → fetchMFAPreference,
// SRP sign-in answered with a TOTP code (computed here with node:crypto),
// choosing the factor (SELECT_MFA_TYPE), email and SMS codes read from the
// dev outbox, and MFA set up during sign-in, with TOTP and with email.
// Each scenario has its own pool, created with the real AWS SDK.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';

import { Amplify } from 'aws-amplify';
import {
  confirmSignIn,
  fetchMFAPreference,
  setUpTOTP,
  signIn,
  signOut,
  updateMFAPreference,
  verifyTOTPSetup,
} from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  SetUserPoolMfaConfigCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  MemoryKeyValueStorage,
  adminClient,
  outboxSnapshot,
  scenario,
  startServer,
  strongPassword,
  uniqueEmail,
  waitForCode,
} from './harness.mjs';

let server;
let admin;

before(async () => {
  server = await startServer();
  admin = adminClient(server);
});

after(async () => {
  await server?.stop();
});

// --- TOTP, RFC 6238, as an authenticator app computes it --------------------

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '')) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The TOTP code of the step `offset` steps from now. */
function totpCode(secret, offset = 0) {
  const counter = Math.floor(Date.now() / 1000 / 30) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = h[h.length - 1] & 0x0f;
  const bin = h.readUInt32BE(off) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

// --- pools and users -----------------------------------------------------------

/** A pool signing in by email with the MFA mode and factors given, and Amplify configured for it. */
async function mfaPool(mode, { sms = false, totp = false, email = false }) {
  const pool = (await admin.send(new CreateUserPoolCommand({ PoolName: `mfa-${mode}`, UsernameAttributes: ['email'] }))).UserPool.Id;
  await admin.send(new SetUserPoolMfaConfigCommand({
    UserPoolId: pool,
    MfaConfiguration: mode,
    SoftwareTokenMfaConfiguration: { Enabled: totp },
    ...(sms ? { SmsMfaConfiguration: { SmsAuthenticationMessage: 'Your code is {####}' } } : {}),
    ...(email ? { EmailMfaConfiguration: {} } : {}),
  }));
  const client = (await admin.send(new CreateUserPoolClientCommand({
    UserPoolId: pool,
    ClientName: 'web',
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }))).UserPoolClient.ClientId;
  Amplify.configure({ Auth: { Cognito: { userPoolId: pool, userPoolClientId: client, userPoolEndpoint: server.url, loginWith: { email: true } } } });
  cognitoUserPoolsTokenProvider.setKeyValueStorage(new MemoryKeyValueStorage());
  return pool;
}

/** A confirmed user with a permanent password. */
async function mfaUser(pool, attrs = {}) {
  const email = uniqueEmail('mfa');
  const password = strongPassword();
  await admin.send(new AdminCreateUserCommand({
    UserPoolId: pool,
    Username: email,
    MessageAction: 'SUPPRESS',
    UserAttributes: Object.entries({ email, ...attrs }).map(([Name, Value]) => ({ Name, Value })),
  }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: pool, Username: email, Password: password, Permanent: true }));
  return { email, password };
}

// --- OPTIONAL: TOTP set up while signed in, then each factor at sign-in --------

const opt = {};
const stepOpt = scenario();

stepOpt('pool with OPTIONAL MFA (TOTP, SMS, email) and a signed-in user', async () => {
  opt.pool = await mfaPool('OPTIONAL', { sms: true, totp: true, email: true });
  opt.phone = `+1555${String(Date.now()).slice(-7)}`;
  opt.user = await mfaUser(opt.pool, { email_verified: 'true', phone_number: opt.phone });
  const res = await signIn({ username: opt.user.email, password: opt.user.password });
  assert.equal(res.isSignedIn, true, 'no MFA before a factor is turned on');
});

stepOpt('setUpTOTP gives an unpadded base32 secret and an otpauth URI', async () => {
  const details = await setUpTOTP();
  opt.secret = details.sharedSecret;
  assert.match(opt.secret, /^[A-Z2-7]{32}$/);
  const uri = details.getSetupUri('Cognate', opt.user.email);
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.searchParams.get('secret'), opt.secret);
});

stepOpt('verifyTOTPSetup refuses a wrong code, accepts the right one', async () => {
  const right = totpCode(opt.secret);
  const wrong = right === '000000' ? '111111' : '000000';
  await assert.rejects(verifyTOTPSetup({ code: wrong }), { name: 'EnableSoftwareTokenMFAException' });
  await verifyTOTPSetup({ code: right, options: { friendlyDeviceName: 'test phone' } });
});

stepOpt('updateMFAPreference makes TOTP preferred; fetchMFAPreference shows it', async () => {
  await updateMFAPreference({ totp: 'PREFERRED' });
  const pref = await fetchMFAPreference();
  assert.deepEqual(pref, { enabled: ['TOTP'], preferred: 'TOTP' });
  await signOut();
});

stepOpt('SRP sign-in asks for the TOTP code (CONFIRM_SIGN_IN_WITH_TOTP_CODE)', async () => {
  const res = await signIn({ username: opt.user.email, password: opt.user.password });
  assert.equal(res.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
  // The setup's code (this step or the one before) is spent: the next step's is fresh.
  const done = await confirmSignIn({ challengeResponse: totpCode(opt.secret, 1) });
  assert.equal(done.isSignedIn, true);
});

stepOpt('with TOTP and email on and none preferred, the user picks EMAIL', async () => {
  await updateMFAPreference({ totp: 'NOT_PREFERRED', email: 'ENABLED' });
  const pref = await fetchMFAPreference();
  assert.deepEqual(pref.enabled, ['TOTP', 'EMAIL']);
  assert.equal(pref.preferred, undefined);
  await signOut();
  const res = await signIn({ username: opt.user.email, password: opt.user.password });
  assert.equal(res.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_MFA_SELECTION');
  assert.deepEqual(res.nextStep.allowedMFATypes, ['TOTP', 'EMAIL']);
  const seen = await outboxSnapshot(server);
  const picked = await confirmSignIn({ challengeResponse: 'EMAIL' });
  assert.equal(picked.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
  assert.equal(picked.nextStep.codeDeliveryDetails.deliveryMedium, 'EMAIL');
  const code = await waitForCode(server, { destination: opt.user.email, kind: 'mfa_email', exclude: seen });
  const done = await confirmSignIn({ challengeResponse: code });
  assert.equal(done.isSignedIn, true);
});

stepOpt('SMS preferred: the code goes to the phone (the outbox) and signs in', async () => {
  await updateMFAPreference({ sms: 'PREFERRED' });
  assert.equal((await fetchMFAPreference()).preferred, 'SMS');
  await signOut();
  const seen = await outboxSnapshot(server);
  const res = await signIn({ username: opt.user.email, password: opt.user.password });
  assert.equal(res.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_SMS_CODE');
  assert.equal(res.nextStep.codeDeliveryDetails.deliveryMedium, 'SMS');
  assert.equal(res.nextStep.codeDeliveryDetails.destination, `+*******${opt.phone.slice(-4)}`);
  const code = await waitForCode(server, { destination: opt.phone, kind: 'mfa_sms', exclude: seen });
  await assert.rejects(confirmSignIn({ challengeResponse: code === '000000' ? '111111' : '000000' }), { name: 'CodeMismatchException' });
  const done = await confirmSignIn({ challengeResponse: code });
  assert.equal(done.isSignedIn, true);
  await signOut();
});

// --- ON: MFA set up during sign-in ------------------------------------------

const on = {};
const stepOn = scenario();

stepOn('pool with MFA ON (TOTP, email); users without a factor', async () => {
  on.pool = await mfaPool('ON', { totp: true, email: true });
  on.totpUser = await mfaUser(on.pool);
  on.emailUser = await mfaUser(on.pool);
});

stepOn('sign-in offers both factors to set up; TOTP set up in place (CONTINUE_SIGN_IN_WITH_TOTP_SETUP)', async () => {
  const res = await signIn({ username: on.totpUser.email, password: on.totpUser.password });
  assert.equal(res.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION');
  assert.deepEqual(res.nextStep.allowedMFATypes, ['TOTP', 'EMAIL']);
  const setup = await confirmSignIn({ challengeResponse: 'TOTP' });
  assert.equal(setup.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP');
  const secret = setup.nextStep.totpSetupDetails.sharedSecret;
  assert.match(secret, /^[A-Z2-7]{32}$/);
  const done = await confirmSignIn({ challengeResponse: totpCode(secret) });
  assert.equal(done.isSignedIn, true);
  assert.deepEqual(await fetchMFAPreference(), { enabled: ['TOTP'], preferred: 'TOTP' });
  await signOut();
  const again = await signIn({ username: on.totpUser.email, password: on.totpUser.password });
  assert.equal(again.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
  const second = await confirmSignIn({ challengeResponse: totpCode(secret, 1) });
  assert.equal(second.isSignedIn, true);
  await signOut();
});

stepOn('email set up in place (CONTINUE_SIGN_IN_WITH_EMAIL_SETUP), then its code', async () => {
  const res = await signIn({ username: on.emailUser.email, password: on.emailUser.password });
  assert.equal(res.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION');
  const chosen = await confirmSignIn({ challengeResponse: 'EMAIL' });
  assert.equal(chosen.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_EMAIL_SETUP');
  const seen = await outboxSnapshot(server);
  const sent = await confirmSignIn({ challengeResponse: on.emailUser.email });
  assert.equal(sent.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
  const code = await waitForCode(server, { destination: on.emailUser.email, kind: 'mfa_email', exclude: seen });
  const done = await confirmSignIn({ challengeResponse: code });
  assert.equal(done.isSignedIn, true);
  assert.deepEqual(await fetchMFAPreference(), { enabled: ['EMAIL'], preferred: 'EMAIL' });
  const u = await admin.send(new AdminGetUserCommand({ UserPoolId: on.pool, Username: on.emailUser.email }));
  assert.deepEqual(u.UserMFASettingList, ['EMAIL_OTP']);
  await signOut();
});
