// signInWithRedirect in Node: Amplify builds the hosted sign-in URL (PKCE
// S256, state, the app client's callback) and hands it to the browser
// through window.location. Here a bare `window` catches that URL, and the
// test checks that Cognate accepts it as it is: /oauth2/authorize sends
// it to the managed login page. The whole round trip, through a real
// browser, is conformance/browser/test/amplify-redirect.test.mjs.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { Amplify } from 'aws-amplify';
import { signInWithRedirect } from 'aws-amplify/auth';
import { CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';

import { adminClient, amplifyAuthConfig, MemoryKeyValueStorage, startServer } from './harness.mjs';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';

const CALLBACK = 'http://localhost:3000/';
let server;
let clientId;

before(async () => {
  server = await startServer();
  const out = await adminClient(server).send(new CreateUserPoolClientCommand({
    UserPoolId: server.poolId, ClientName: 'redirect-app',
    AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: ['code'],
    AllowedOAuthScopes: ['openid', 'email', 'profile'], CallbackURLs: [CALLBACK], LogoutURLs: [CALLBACK],
    SupportedIdentityProviders: ['COGNITO'], ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }));
  clientId = out.UserPoolClient.ClientId;
});

after(async () => {
  delete globalThis.window;
  await server?.stop();
});

test('signInWithRedirect builds an authorization request Cognate accepts', async () => {
  const { loginWith, ...cognito } = amplifyAuthConfig(server);
  Amplify.configure({ Auth: { Cognito: {
    ...cognito, userPoolClientId: clientId, userPoolEndpoint: server.url,
    loginWith: { ...loginWith, oauth: {
      domain: `127.0.0.1:${server.port}`, scopes: ['openid', 'email', 'profile'],
      redirectSignIn: [CALLBACK], redirectSignOut: [CALLBACK], responseType: 'code',
    } },
  } } });
  cognitoUserPoolsTokenProvider.setKeyValueStorage(new MemoryKeyValueStorage());
  // Only location: Amplify still sees no browser (no document), but
  // hands the URL to window.location.href.
  const app = new URL(CALLBACK);
  globalThis.window = { location: {
    href: CALLBACK, origin: app.origin, protocol: app.protocol, host: app.host, hostname: app.hostname,
    port: app.port, pathname: app.pathname, search: '', hash: '',
  }, addEventListener() {}, removeEventListener() {} };
  await signInWithRedirect();
  const sent = new URL(globalThis.window.location.href);
  assert.equal(sent.pathname, '/oauth2/authorize');
  assert.equal(sent.host, `127.0.0.1:${server.port}`);
  const q = sent.searchParams;
  assert.equal(q.get('client_id'), clientId);
  assert.equal(q.get('redirect_uri'), CALLBACK);
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.ok(q.get('state'), 'no state');

  // Amplify always says https; the same request over this server's http.
  const res = await fetch(`${server.url}/oauth2/authorize?${q}`, { redirect: 'manual' });
  assert.equal(res.status, 302, `authorize answered ${res.status}: ${await res.text()}`);
  const login = new URL(res.headers.get('location'), server.url);
  assert.equal(login.pathname, '/login');
  const page = await fetch(login);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /name="password"/);
});
