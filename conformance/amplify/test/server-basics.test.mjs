// What the server hands an Amplify app before any user exists: the
// amplify_outputs.json it writes (and how Amplify parses it), the admin
// credentials (SigV4 with the real AWS SDK), the `web` app client, the JWKS,
// and the JSON 1.1 wire format.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import { parseAmplifyConfig } from 'aws-amplify/utils';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  adminClient,
  check,
  cognitoCall,
  expectError,
  startServer,
  strongPassword,
  uniqueEmail,
} from './harness.mjs';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

check('amplify_outputs.json has the Gen 2 auth section', () => {
  const o = server.outputs;
  assert.match(String(o.version), /^1(\.|$)/, 'outputs version is 1.x (Amplify ignores other versions)');
  const auth = o.auth;
  assert.ok(auth, 'outputs.auth');
  assert.match(auth.user_pool_id, /^[a-z]{2}-(gov-)?[a-z]+-\d_[a-zA-Z0-9]+$/, 'pool id shaped like us-east-1_Ab12Cd34E');
  assert.equal(auth.aws_region, auth.user_pool_id.split('_')[0], 'aws_region is the pool id prefix');
  assert.equal(typeof auth.user_pool_client_id, 'string');
  assert.ok(auth.user_pool_client_id.length > 0);
  assert.deepEqual(auth.username_attributes, ['email']);
  assert.deepEqual(
    {
      min_length: auth.password_policy?.min_length,
      require_lowercase: auth.password_policy?.require_lowercase,
      require_uppercase: auth.password_policy?.require_uppercase,
      require_numbers: auth.password_policy?.require_numbers,
      require_symbols: auth.password_policy?.require_symbols,
    },
    { min_length: 8, require_lowercase: true, require_uppercase: true, require_numbers: true, require_symbols: true },
  );
});

check('Amplify parses amplify_outputs.json into a Cognito config', () => {
  const c = parseAmplifyConfig(server.outputs)?.Auth?.Cognito;
  assert.ok(c, 'parseAmplifyConfig yields Auth.Cognito');
  assert.equal(c.userPoolId, server.outputs.auth.user_pool_id);
  assert.equal(c.userPoolClientId, server.outputs.auth.user_pool_client_id);
  assert.equal(c.loginWith?.email, true);
  assert.equal(c.passwordFormat?.minLength, 8);
  assert.equal(c.passwordFormat?.requireSpecialCharacters, true);
});

check('admin-credentials.json signs admin calls (DescribeUserPool)', async () => {
  const { access_key_id: id, secret_access_key: secret } = server.adminCredentials;
  assert.equal(typeof id, 'string');
  assert.equal(typeof secret, 'string');
  const out = await adminClient(server).send(new DescribeUserPoolCommand({ UserPoolId: server.poolId }));
  assert.equal(out.UserPool?.Id, server.poolId);
  assert.deepEqual(out.UserPool?.UsernameAttributes, ['email']);
});

check('admin calls signed with a wrong secret are refused', async () => {
  const bad = new CognitoIdentityProviderClient({
    endpoint: server.url,
    region: server.region,
    credentials: { accessKeyId: server.adminCredentials.access_key_id, secretAccessKey: 'wrong-secret' },
    maxAttempts: 1,
  });
  const err = await expectError(
    () => bad.send(new DescribeUserPoolCommand({ UserPoolId: server.poolId })),
    'DescribeUserPool with a wrong secret',
  );
  assert.ok([400, 401, 403].includes(err.$metadata?.httpStatusCode), `status ${err.$metadata?.httpStatusCode}`);
  assert.notEqual(err.name, 'ResourceNotFoundException');
});

check('unsigned admin calls are refused', async () => {
  const r = await cognitoCall(server, 'AdminGetUser', { UserPoolId: server.poolId, Username: uniqueEmail() });
  assert.ok([400, 401, 403].includes(r.status), `status ${r.status} body ${JSON.stringify(r.body)}`);
  assert.notEqual(r.errorType, 'UserNotFoundException', 'the call must be refused before it looks up users');
});

check('the shipped `web` client is public and hides user existence', async () => {
  const out = await adminClient(server).send(new DescribeUserPoolClientCommand({
    UserPoolId: server.poolId,
    ClientId: server.clientId,
  }));
  const c = out.UserPoolClient;
  assert.equal(c.ClientId, server.clientId);
  assert.equal(c.ClientName, 'web');
  assert.equal(c.ClientSecret, undefined, 'public client: no secret');
  assert.equal(c.PreventUserExistenceErrors, 'ENABLED');
});

check('AdminGetUser of an unknown user is UserNotFoundException', async () => {
  const err = await expectError(
    () => adminClient(server).send(new AdminGetUserCommand({ UserPoolId: server.poolId, Username: uniqueEmail() })),
    'AdminGetUser of an unknown user',
  );
  assert.equal(err.name, 'UserNotFoundException');
});

check('the JWKS at <publicURL>/<poolId>/.well-known/jwks.json lists RS256 RSA keys', async () => {
  const res = await fetch(`${server.url}/${server.poolId}/.well-known/jwks.json`);
  assert.equal(res.status, 200);
  const jwks = await res.json();
  assert.ok(Array.isArray(jwks.keys) && jwks.keys.length > 0, 'keys[]');
  for (const k of jwks.keys) {
    assert.equal(k.kty, 'RSA');
    assert.equal(k.alg, 'RS256');
    assert.equal(k.use, 'sig');
    assert.ok(k.kid && k.n && k.e, 'kid, n, e');
  }
});

check('JSON 1.1 success: 200, application/x-amz-json-1.1, x-amzn-RequestId', async () => {
  const email = uniqueEmail();
  const r = await cognitoCall(server, 'SignUp', {
    ClientId: server.clientId,
    Username: email,
    Password: strongPassword(),
    UserAttributes: [{ Name: 'email', Value: email }],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') ?? '', /application\/x-amz-json-1\.1/);
  assert.ok(r.headers.get('x-amzn-requestid'), 'x-amzn-RequestId header');
  assert.equal(r.body.UserConfirmed, false);
  assert.equal(r.body.CodeDeliveryDetails?.DeliveryMedium, 'EMAIL');
});

check('JSON 1.1 errors: 4xx with __type and message', async () => {
  const r = await cognitoCall(server, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: 'no-such-client',
    AuthParameters: { USERNAME: uniqueEmail(), PASSWORD: strongPassword() },
  });
  assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
  assert.equal(typeof r.body.__type, 'string');
  assert.equal(typeof r.message, 'string');
  assert.ok(
    ['ResourceNotFoundException', 'NotAuthorizedException', 'InvalidParameterException'].includes(r.errorType),
    `error type ${r.errorType}`,
  );
});
