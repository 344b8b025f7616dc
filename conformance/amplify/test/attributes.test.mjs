// The attribute functions of aws-amplify/auth that lifecycle.test.mjs
// does not reach: updateUserAttribute (one attribute), a new code with
// sendUserAttributeVerificationCode, deleteUserAttributes, and decodeJWT
// on the tokens Cognate issues.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  confirmSignUp, confirmUserAttribute, decodeJWT, deleteUserAttributes, fetchAuthSession, fetchUserAttributes,
  sendUserAttributeVerificationCode, signIn, signUp, updateUserAttribute,
} from 'aws-amplify/auth';

import {
  configureAmplify, outboxSnapshot, scenario, startServer, strongPassword, uniqueEmail, waitForCode,
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

step('a signed-in user', async () => {
  s.email = uniqueEmail('attrs');
  s.password = strongPassword();
  const before = await outboxSnapshot(server);
  const up = await signUp({ username: s.email, password: s.password, options: { userAttributes: { email: s.email } } });
  s.sub = up.userId;
  const code = await waitForCode(server, { destination: s.email, kind: 'sign_up', exclude: before });
  await confirmSignUp({ username: s.email, confirmationCode: code });
  const r = await signIn({ username: s.email, password: s.password });
  assert.equal(r.nextStep.signInStep, 'DONE');
});

step('decodeJWT reads the access and ID tokens Cognate issued', async () => {
  const { tokens } = await fetchAuthSession();
  const access = decodeJWT(tokens.accessToken.toString());
  assert.equal(access.payload.sub, s.sub);
  assert.equal(access.payload.token_use, 'access');
  const id = decodeJWT(tokens.idToken.toString());
  assert.equal(id.payload.email, s.email);
  assert.equal(id.payload.aud, server.clientId);
});

step('updateUserAttribute sets one attribute', async () => {
  const r = await updateUserAttribute({ userAttribute: { attributeKey: 'given_name', value: 'Ada' } });
  assert.equal(r.isUpdated, true);
  assert.equal(r.nextStep.updateAttributeStep, 'DONE');
  assert.equal((await fetchUserAttributes()).given_name, 'Ada');
});

step('updateUserAttribute of the email asks for a code; sendUserAttributeVerificationCode sends a new one that confirms it', async () => {
  s.newEmail = uniqueEmail('attrs-new');
  const r = await updateUserAttribute({ userAttribute: { attributeKey: 'email', value: s.newEmail } });
  assert.equal(r.isUpdated, false);
  assert.equal(r.nextStep.updateAttributeStep, 'CONFIRM_ATTRIBUTE_WITH_CODE');
  const before = await outboxSnapshot(server);
  const sent = await sendUserAttributeVerificationCode({ userAttributeKey: 'email' });
  assert.equal(sent.deliveryMedium, 'EMAIL');
  assert.equal(sent.attributeName, 'email');
  const code = await waitForCode(server, { destination: s.newEmail, kind: 'verify_attribute', exclude: before });
  await confirmUserAttribute({ userAttributeKey: 'email', confirmationCode: code });
  const attrs = await fetchUserAttributes();
  assert.equal(attrs.email, s.newEmail);
  assert.equal(attrs.email_verified, 'true');
});

step('deleteUserAttributes removes an attribute', async () => {
  await deleteUserAttributes({ userAttributeKeys: ['given_name'] });
  assert.equal((await fetchUserAttributes()).given_name, undefined);
});
