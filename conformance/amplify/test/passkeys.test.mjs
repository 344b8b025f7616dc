// Passkey operations through the real Amplify in Node, where there is no
// authenticator (no navigator.credentials): listWebAuthnCredentials and
// deleteWebAuthnCredential are plain API calls; associateWebAuthnCredential
// gets its options from StartWebAuthnRegistration, which must pass
// Amplify's own check of them, and then stops at the missing
// authenticator. conformance/browser/test/passkeys.test.mjs registers and
// signs in with a passkey in Chromium.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import { Amplify } from 'aws-amplify';
import {
  associateWebAuthnCredential, deleteWebAuthnCredential, listWebAuthnCredentials, signIn, signOut,
} from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, CreateUserPoolClientCommand, CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  adminClient, callsSince, expectError, mark, MemoryKeyValueStorage, scenario, startServer, strongPassword,
  uniqueEmail,
} from './harness.mjs';

let server;
const step = scenario();
const s = {};

before(async () => {
  server = await startServer();
  const admin = adminClient(server);
  const pool = await admin.send(new CreateUserPoolCommand({
    PoolName: 'passkeys',
    UsernameAttributes: ['email'],
    Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'WEB_AUTHN'] } },
  }));
  s.poolId = pool.UserPool.Id;
  const client = await admin.send(new CreateUserPoolClientCommand({
    UserPoolId: s.poolId,
    ClientName: 'passkeys',
    ExplicitAuthFlows: ['ALLOW_USER_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }));
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: s.poolId, userPoolClientId: client.UserPoolClient.ClientId, userPoolEndpoint: server.url,
        loginWith: { email: true },
      },
    },
  });
  cognitoUserPoolsTokenProvider.setKeyValueStorage(new MemoryKeyValueStorage());
  s.email = uniqueEmail('passkey');
  s.password = strongPassword();
  const user = await admin.send(new AdminCreateUserCommand({
    UserPoolId: s.poolId, Username: s.email, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email_verified', Value: 'true' }],
  }));
  await admin.send(new AdminSetUserPasswordCommand({
    UserPoolId: s.poolId, Username: user.User.Username, Password: s.password, Permanent: true,
  }));
});

after(async () => {
  await server?.stop();
});

step('sign in with the password', async () => {
  const res = await signIn({ username: s.email, password: s.password });
  assert.equal(res.isSignedIn, true);
});

step('listWebAuthnCredentials: none yet', async () => {
  const res = await listWebAuthnCredentials({ pageSize: 20 });
  assert.deepEqual(res.credentials, []);
  assert.equal(res.nextToken, undefined);
});

step('associateWebAuthnCredential: Amplify accepts the creation options, then finds no authenticator', async () => {
  const at = mark();
  const err = await expectError(() => associateWebAuthnCredential(), 'associateWebAuthnCredential');
  assert.equal(err.name, 'PasskeyNotSupported', `${err.name}: ${err.message}`);
  const [start] = callsSince(at, 'StartWebAuthnRegistration');
  assert.equal(start?.status, 200);
  const { CredentialCreationOptions: o } = start.response;
  assert.equal(o.rp.id, 'localhost');
  assert.match(o.challenge, /^[A-Za-z0-9_-]{40,}$/);
  assert.equal(Buffer.from(o.user.id, 'base64url').toString().length, 36, 'user.id is the sub');
  assert.equal(o.user.name, s.email);
  assert.deepEqual(o.pubKeyCredParams.map((p) => p.alg), [-7, -257]);
  assert.deepEqual(o.excludeCredentials, []);
  assert.equal(o.authenticatorSelection.residentKey, 'required');
  assert.equal(o.authenticatorSelection.userVerification, 'preferred');
  assert.equal(callsSince(at, 'CompleteWebAuthnRegistration').length, 0);
});

step('deleteWebAuthnCredential of an unknown passkey: ResourceNotFoundException', async () => {
  const err = await expectError(() => deleteWebAuthnCredential({ credentialId: 'bm8tc3VjaC1wYXNza2V5' }), 'deleteWebAuthnCredential');
  assert.equal(err.name, 'ResourceNotFoundException', `${err.name}: ${err.message}`);
});

step('signIn with WEB_AUTHN preferred: the user has no passkey, so none is asked for', async () => {
  await signOut();
  const at = mark();
  const res = await signIn({ username: s.email, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'WEB_AUTHN' } }).catch((e) => e);
  const [initiate] = callsSince(at, 'InitiateAuth');
  assert.ok(initiate, 'InitiateAuth was called');
  assert.notEqual(initiate.response?.ChallengeName, 'WEB_AUTHN', `${JSON.stringify(initiate.response)} / ${res}`);
});
