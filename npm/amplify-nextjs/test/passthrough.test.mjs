// Outputs of an Amazon Cognito pool (no custom.cognate), and the guards.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createServerRunner as adapterCreateServerRunner } from '@aws-amplify/adapter-nextjs';
import { CognitoJwtVerifier } from 'aws-jwt-verify';

import { createServerRunner } from '../index.js';
import { amplifyConfig } from '../outputs.js';
import { assertTestedAdapter } from '../version.js';

const cognito = {
  version: '1.4',
  auth: {
    aws_region: 'eu-west-1', user_pool_id: 'eu-west-1_AbCdEfGhI', user_pool_client_id: 'client1234567890',
    username_attributes: ['email'], standard_required_attributes: ['email'], user_verification_types: ['email'],
    password_policy: { min_length: 8 }, mfa_configuration: 'NONE', mfa_methods: [],
  },
};

test('Amazon Cognito outputs pass through: no endpoint, no change to aws-jwt-verify', () => {
  const { parseUserPoolId, create } = CognitoJwtVerifier;
  const runner = createServerRunner({ config: cognito });
  assert.equal(amplifyConfig(cognito), cognito);
  assert.equal(CognitoJwtVerifier.parseUserPoolId, parseUserPoolId);
  assert.equal(CognitoJwtVerifier.create, create);
  assert.equal(CognitoJwtVerifier.parseUserPoolId('eu-west-1_AbCdEfGhI').issuer,
    'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI');
  assert.deepEqual(Object.keys(runner).sort(),
    [...Object.keys(adapterCreateServerRunner({ config: cognito })), 'refreshInProxy'].sort());
});

test('custom.cognate without its members is an error, not a silent Amazon Cognito setup', () => {
  assert.throws(() => createServerRunner({ config: { ...cognito, custom: { cognate: {} } } }), /custom\.cognate/);
});

test('an adapter major other than the tested one fails loudly', () => {
  assert.doesNotThrow(() => assertTestedAdapter('1.8.3'));
  assert.throws(() => assertTestedAdapter('2.0.0'), /tested with @aws-amplify\/adapter-nextjs 1\.8\.0 .* but 2\.0\.0 is installed/);
});
