// Remembered devices through the real Amplify v6 Auth client, on a pool
// that tracks devices and remembers them when the user says so: a first
// sign-in confirms its new device (ConfirmDevice with Amplify's own
// verifier), rememberDevice, fetchDevices, a second sign-in that proves the
// device with device SRP (DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER), a
// refresh that names the device, forgetDevice, and Amplify's retry when the
// server no longer knows its device ("Device does not exist.").
//
// Last, with MFA on (email codes): a remembered device signs in without
// the code, a new device is asked for it.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import { Amplify } from 'aws-amplify';
import {
  fetchAuthSession,
  confirmSignIn,
  fetchDevices,
  forgetDevice,
  rememberDevice,
  signIn,
  signOut,
} from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import {
  AdminCreateUserCommand,
  AdminForgetDeviceCommand,
  AdminGetDeviceCommand,
  AdminSetUserPasswordCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  SetUserPoolMfaConfigCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  MemoryKeyValueStorage,
  adminClient,
  callsSince,
  decodeJwt,
  mark,
  outboxSnapshot,
  scenario,
  startServer,
  strongPassword,
  waitForCode,
} from './harness.mjs';

let server;
let admin;
const step = scenario();
const s = {};

// Amplify names a new device after navigator.userAgent (getDeviceName), and
// silently skips ConfirmDevice when it cannot. Node 20 has no navigator (21
// added one); give it the one a browser would have.
globalThis.navigator ??= { userAgent: `Node.js/${process.versions.node} (cognate conformance)` };

before(async () => {
  server = await startServer();
  admin = adminClient(server);
});

after(async () => {
  await server?.stop();
});

const accessClaims = async (opts) => decodeJwt((await fetchAuthSession(opts)).tokens.accessToken.toString()).payload;

/** The one recorded call of op since m, checked to have succeeded. */
function oneCall(m, op) {
  const calls = callsSince(m, op);
  assert.equal(calls.length, 1, `one ${op} call`);
  assert.equal(calls[0].status, 200, `${op} succeeded: ${JSON.stringify(calls[0].response)}`);
  return calls[0];
}

step('a pool that tracks devices, remembered on the user\'s prompt, and a user', async () => {
  const pool = await admin.send(new CreateUserPoolCommand({
    PoolName: 'devices',
    DeviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true },
  }));
  assert.deepEqual(pool.UserPool.DeviceConfiguration, { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true });
  s.poolId = pool.UserPool.Id;
  const client = await admin.send(new CreateUserPoolClientCommand({
    UserPoolId: s.poolId, ClientName: 'web',
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }));
  s.clientId = client.UserPoolClient.ClientId;
  s.username = 'dana';
  s.password = strongPassword();
  s.email = 'dana@example.com';
  await admin.send(new AdminCreateUserCommand({
    UserPoolId: s.poolId, Username: s.username, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: s.email }, { Name: 'email_verified', Value: 'true' }],
  }));
  await admin.send(new AdminSetUserPasswordCommand({
    UserPoolId: s.poolId, Username: s.username, Password: s.password, Permanent: true,
  }));
  Amplify.configure({ Auth: { Cognito: { userPoolId: s.poolId, userPoolClientId: s.clientId, userPoolEndpoint: server.url } } });
  cognitoUserPoolsTokenProvider.setKeyValueStorage(new MemoryKeyValueStorage());
});

step('signIn on a new device confirms it: NewDeviceMetadata, then ConfirmDevice with Amplify\'s verifier', async () => {
  const m = mark();
  const r = await signIn({ username: s.username, password: s.password });
  assert.equal(r.isSignedIn, true);
  assert.equal(r.nextStep.signInStep, 'DONE');
  const verifier = callsSince(m, 'RespondToAuthChallenge').at(-1);
  const md = verifier.response.AuthenticationResult.NewDeviceMetadata;
  assert.match(md.DeviceKey, /^us-east-1_[0-9a-f-]{36}$/);
  assert.ok(md.DeviceGroupKey, 'DeviceGroupKey');
  const confirm = oneCall(m, 'ConfirmDevice');
  assert.equal(confirm.request.DeviceKey, md.DeviceKey);
  assert.ok(confirm.request.DeviceSecretVerifierConfig.PasswordVerifier, 'Amplify sent a verifier');
  assert.equal(confirm.response.UserConfirmationNecessary, true);
  s.deviceKey = md.DeviceKey;
  assert.equal((await accessClaims()).device_key, s.deviceKey, 'device_key in the access token');
  const d = await admin.send(new AdminGetDeviceCommand({ UserPoolId: s.poolId, Username: s.username, DeviceKey: s.deviceKey }));
  const attrs = Object.fromEntries(d.Device.DeviceAttributes.map((a) => [a.Name, a.Value]));
  assert.equal(attrs['dev:device_remembered_status'], 'not_remembered');
  assert.equal(attrs.device_name, confirm.request.DeviceName);
});

step('rememberDevice marks the device remembered, and fetchDevices lists it', async () => {
  const m = mark();
  await rememberDevice();
  const update = oneCall(m, 'UpdateDeviceStatus');
  assert.equal(update.request.DeviceKey, s.deviceKey);
  assert.equal(update.request.DeviceRememberedStatus, 'remembered');
  const devices = await fetchDevices();
  assert.equal(devices.length, 1);
  const [d] = devices;
  assert.equal(d.id, s.deviceKey);
  assert.equal(d.attributes['dev:device_remembered_status'], 'remembered');
  assert.equal(d.attributes.last_ip_used, '127.0.0.1');
  for (const k of ['createDate', 'lastModifiedDate', 'lastAuthenticatedDate']) {
    assert.ok(d[k] instanceof Date && Math.abs(Date.now() - d[k].getTime()) < 60_000, `${k} is a recent Date: ${d[k]}`);
  }
});

step('a second signIn on the remembered device proves it with device SRP', async () => {
  await signOut();
  const m = mark();
  const r = await signIn({ username: s.username, password: s.password });
  assert.equal(r.isSignedIn, true);
  assert.equal(r.nextStep.signInStep, 'DONE');
  const challenges = callsSince(m, 'RespondToAuthChallenge').map((c) => [c.request.ChallengeName, c.status, c.response.ChallengeName ?? 'tokens']);
  assert.deepEqual(challenges, [
    ['PASSWORD_VERIFIER', 200, 'DEVICE_SRP_AUTH'],
    ['DEVICE_SRP_AUTH', 200, 'DEVICE_PASSWORD_VERIFIER'],
    ['DEVICE_PASSWORD_VERIFIER', 200, 'tokens'],
  ]);
  assert.equal(callsSince(m, 'RespondToAuthChallenge')[0].request.ChallengeResponses.DEVICE_KEY, s.deviceKey);
  assert.equal(callsSince(m, 'ConfirmDevice').length, 0, 'no new device to confirm');
  assert.equal((await accessClaims()).device_key, s.deviceKey);
});

step('a refresh names the device, and the new access token carries it', async () => {
  const m = mark();
  const claims = await accessClaims({ forceRefresh: true });
  const refresh = oneCall(m, 'GetTokensFromRefreshToken');
  assert.equal(refresh.request.DeviceKey, s.deviceKey);
  assert.equal(claims.device_key, s.deviceKey);
});

step('a device the server no longer knows: "Device does not exist.", and Amplify signs in afresh on a new device', async () => {
  await admin.send(new AdminForgetDeviceCommand({ UserPoolId: s.poolId, Username: s.username, DeviceKey: s.deviceKey }));
  await signOut();
  const m = mark();
  const r = await signIn({ username: s.username, password: s.password });
  assert.equal(r.nextStep.signInStep, 'DONE');
  const refused = callsSince(m, 'RespondToAuthChallenge').find((c) => c.status !== 200);
  assert.equal(refused?.errorType, 'ResourceNotFoundException');
  assert.equal(refused?.response.message, 'Device does not exist.');
  oneCall(m, 'ConfirmDevice');
  const claims = await accessClaims();
  assert.ok(claims.device_key && claims.device_key !== s.deviceKey, 'a new device');
  s.deviceKey = claims.device_key;
});

step('forgetDevice forgets the current device: fetchDevices is empty, the next sign-in names a new device', async () => {
  const m = mark();
  await forgetDevice();
  assert.equal(oneCall(m, 'ForgetDevice').request.DeviceKey, s.deviceKey);
  assert.deepEqual(await fetchDevices(), []);
  await signOut();
  const again = mark();
  await signIn({ username: s.username, password: s.password });
  const sent = callsSince(again, 'RespondToAuthChallenge')[0].request.ChallengeResponses;
  assert.equal(sent.DEVICE_KEY, undefined, 'Amplify forgot the device key');
  oneCall(again, 'ConfirmDevice');
  assert.equal((await fetchDevices()).length, 1);
});

step('with MFA on, the remembered device signs in without a code; a new device is asked for one', async () => {
  await admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: s.poolId, MfaConfiguration: 'ON', EmailMfaConfiguration: {} }));
  await rememberDevice();
  await signOut();
  const m = mark();
  const r = await signIn({ username: s.username, password: s.password });
  assert.equal(r.nextStep.signInStep, 'DONE', 'no MFA step on the remembered device');
  assert.deepEqual(callsSince(m, 'RespondToAuthChallenge').map((c) => c.response.ChallengeName ?? 'tokens'),
    ['DEVICE_SRP_AUTH', 'DEVICE_PASSWORD_VERIFIER', 'tokens']);
  await forgetDevice();
  await signOut();
  const seen = await outboxSnapshot(server);
  const onNew = await signIn({ username: s.username, password: s.password });
  assert.equal(onNew.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE', 'a new device is asked for the code');
  const code = await waitForCode(server, { destination: s.email, kind: 'mfa_email', exclude: seen });
  const done = await confirmSignIn({ challengeResponse: code });
  assert.equal(done.nextStep.signInStep, 'DONE');
  assert.ok((await accessClaims()).device_key, 'the new device is named');
});
