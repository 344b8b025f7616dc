// Passkey sign-in on the managed login page in Chromium over HTTPS, with a
// CDP virtual authenticator: a passkey is registered through the API with
// the user's access token (the ceremony run on the server's own origin),
// then the login page's "Sign in with a passkey" button runs
// navigator.credentials.get (assets/passkey.js) and the browser lands on
// the app's callback with a code, which redeems for the user's tokens.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  PASSWORD, POOL_ID, authorizeURL, createUser, decodeJwt, exchangeCode, launchBrowser, newContext, pkce, scenario,
  screenshotPrefix, serveHttps, shot, startServer, waitForPath,
} from './harness.mjs';

screenshotPrefix('hosted-passkey');

const CLIENT = 'passkeypages';
const EMAIL = 'pia@example.com';

let server;
let rp;
let browser;
let page;
let cdp;
let authenticatorId;
let sub;

const callback = () => `${rp.url}/callback`;

/** Calls a Cognito operation over the server's plain-HTTP loopback listener. */
async function cognito(op, body) {
  const res = await fetch(server.http, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${op}` },
    body: JSON.stringify(body),
  });
  const out = await res.json();
  assert.equal(res.status, 200, `${op}: ${JSON.stringify(out)}`);
  return out;
}

before(async () => {
  server = await startServer({
    extraPorts: 1,
    config: ({ ports }) => ({
      UserPools: [{
        Id: POOL_ID,
        PoolName: 'passkey pages',
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'WEB_AUTHN'] } },
        Clients: [{
          ClientId: CLIENT,
          ClientName: 'Passkey pages',
          AllowedOAuthFlowsUserPoolClient: true,
          AllowedOAuthFlows: ['code'],
          AllowedOAuthScopes: ['openid', 'email', 'profile'],
          CallbackURLs: [`https://localhost:${ports[0]}/callback`],
          ExplicitAuthFlows: ['ALLOW_USER_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }],
      }],
    }),
  });
  rp = await serveHttps({
    port: server.ports[0],
    cert: server.cert,
    key: server.key,
    handler: (req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Relying party</title><h1>ok</h1>');
    },
  });
  browser = await launchBrowser(server.spki);
  page = await (await newContext(browser)).newPage();
  page.on('pageerror', (err) => process.stderr.write(`[page error] ${err.message}\n`));
});

after(async () => {
  await browser?.close().catch(() => {});
  await rp?.close();
  await server?.stop();
});

const step = scenario({ pages: () => [page], server: () => server });

step('a user, and a CDP virtual authenticator', async () => {
  sub = await createUser(server, EMAIL, PASSWORD);
  cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  }));
});

step('register a passkey with the access token (the ceremony on the server origin)', async () => {
  const auth = await cognito('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH', ClientId: CLIENT, AuthParameters: { USERNAME: EMAIL, PASSWORD },
  });
  const AccessToken = auth.AuthenticationResult.AccessToken;
  const { CredentialCreationOptions } = await cognito('StartWebAuthnRegistration', { AccessToken });
  await page.goto(`${server.https}/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: CLIENT, redirect_uri: callback() })}`);
  await waitForPath(page, '/login', { origin: server.https });
  const Credential = await page.evaluate(async (opts) => {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(opts);
    return (await navigator.credentials.create({ publicKey })).toJSON();
  }, CredentialCreationOptions);
  await cognito('CompleteWebAuthnRegistration', { AccessToken, Credential });
  const { Credentials } = await cognito('ListWebAuthnCredentials', { AccessToken });
  assert.equal(Credentials.length, 1);
});

step('the login page offers a passkey; with the username it signs in and lands on the callback', async () => {
  const p = pkce();
  await page.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p }));
  await waitForPath(page, '/login', { origin: server.https });
  assert.equal(await page.locator('#passkey').count(), 1, 'a passkey button');
  await shot(page, 'login');
  await page.fill('input[name=username]', EMAIL);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#passkey')]);
  assert.equal(await page.locator('#passkey-continue').count(), 1, `the passkey step: ${await page.content()}`);
  await shot(page, 'passkey-step');
  await Promise.all([
    page.waitForURL((u) => u.origin === rp.url && u.pathname === '/callback', { timeout: 15_000 }),
    page.click('#passkey-continue'),
  ]);
  const cb = new URL(page.url());
  assert.equal(cb.searchParams.get('state'), p.state);
  const code = cb.searchParams.get('code');
  assert.ok(code, 'a code on the callback');
  const tokens = await exchangeCode(server, { clientId: CLIENT, redirectUri: callback(), code, verifier: p.verifier });
  assert.equal(tokens.status, 200, tokens.text);
  assert.equal(decodeJwt(tokens.json.id_token).sub, sub);
  const { credentials: [cred] } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(cred.signCount >= 1, `sign count ${cred.signCount}`);
});

step('without the passkey on the authenticator the ceremony fails and the page says so', async () => {
  await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
  await page.context().clearCookies();
  const p = pkce();
  await page.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p }));
  await waitForPath(page, '/login', { origin: server.https });
  await page.fill('input[name=username]', EMAIL);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#passkey')]);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 30_000 }), page.click('#passkey-continue')]);
  assert.equal(new URL(page.url()).pathname, '/passkey');
  assert.match(await page.locator('#form-error').textContent(), /passkey/i);
  await shot(page, 'refused');
});
