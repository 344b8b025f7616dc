// SAML 2.0 federation in a real Chromium over HTTPS: a real SAML IdP
// (crewjam/saml's samlidp with its own user store, run from
// testdata/samlidp) configured through the AWS SDK; the managed login
// page's provider button, the IdP's own login form, its form posting the
// response back, the callback with a code and tokens for the federated
// user; then sign-out at the IdP through /logout. Then the same sign-in
// from an app page through Amplify's
// signInWithRedirect({ provider: { custom: 'Corp' } }).

import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';

import {
  CreateIdentityProviderCommand, UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  POOL_ID, SUITE_ROOT, adminClient, authorizeURL, bundleForBrowser, decodeJwt, exchangeCode, launchBrowser, newContext,
  pkce, request, scenario, screenshotPrefix, serveHttps, shot, startServer, waitForPath,
} from './harness.mjs';

screenshotPrefix('saml');

const CLIENT = 'samlapp';
const PROVIDER = 'Corp';
const IDP_USER = 'alice';
const IDP_EMAIL = 'alice@corp.example';
const IDP_PASSWORD = 'correct horse battery staple';
const REPO = path.resolve(SUITE_ROOT, '..', '..');

let server;
let rp;
let idp; // { url, child, dir }
let browser;
let page;
let bundle = '';

const callback = () => `${rp.url}/callback`;
const signedOut = () => `${rp.url}/signed-out`;
const SCOPES = ['openid', 'email', 'profile', 'aws.cognito.signin.user.admin'];

// The app page: Amplify configured for the pool, a button calling
// signInWithRedirect with the SAML provider's name.
const ENTRY = `
import { Amplify } from 'aws-amplify';
import { fetchAuthSession, signInWithRedirect } from 'aws-amplify/auth';
import 'aws-amplify/auth/enable-oauth-listener';
import { Hub } from 'aws-amplify/utils';

window.__hub = [];
Hub.listen('auth', ({ payload }) => {
  const error = payload.data && payload.data.error;
  window.__hub.push({ event: payload.event, error: error ? String(error.name || '') + ': ' + String(error.message || error) : null });
});
Amplify.configure(window.__AMPLIFY_CONFIG__);
window.__api = {
  session: async () => {
    const s = await fetchAuthSession();
    return s.tokens ? { accessPayload: s.tokens.accessToken.payload, idPayload: s.tokens.idToken ? s.tokens.idToken.payload : null } : null;
  },
};
document.getElementById('login').addEventListener('click', () => {
  signInWithRedirect({ provider: { custom: '${PROVIDER}' } }).catch((e) => { window.__error = String(e); });
});
window.__ready = true;
`;

function indexHTML() {
  const config = {
    Auth: {
      Cognito: {
        userPoolId: POOL_ID,
        userPoolClientId: CLIENT,
        userPoolEndpoint: server.https,
        loginWith: {
          oauth: {
            domain: `localhost:${server.tlsPort}`, scopes: SCOPES, responseType: 'code',
            redirectSignIn: [`${rp.url}/`], redirectSignOut: [`${rp.url}/`],
          },
        },
      },
    },
  };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SAML app</title>
<script>window.__AMPLIFY_CONFIG__ = ${JSON.stringify(config)};</script>
<script type="module" src="/app.js"></script></head>
<body><h1>SAML app</h1><button id="login">Sign in with ${PROVIDER}</button></body></html>`;
}

/** Builds and starts the test IdP; resolves with its base URL. */
async function startIdP() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cognate-samlidp-'));
  const bin = path.join(dir, 'samlidp');
  await promisify(execFile)('go', ['build', '-o', bin, './conformance/browser/testdata/samlidp'], { cwd: REPO, timeout: 600_000 });
  const child = spawn(bin, ['-password', IDP_PASSWORD, '-user', IDP_USER, '-email', IDP_EMAIL], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(line.trim());
    });
    child.on('exit', (code) => reject(new Error(`samlidp exited ${code}`)));
    setTimeout(() => reject(new Error('samlidp did not start')), 30_000);
  });
  return { url, child, dir };
}

before(async () => {
  server = await startServer({
    extraPorts: 1,
    config: ({ ports }) => ({
      UserPools: [{
        Id: POOL_ID,
        PoolName: 't',
        Clients: [{
          ClientId: CLIENT,
          ClientName: 'SAML app',
          AllowedOAuthFlowsUserPoolClient: true,
          AllowedOAuthFlows: ['code'],
          AllowedOAuthScopes: ['openid', 'email', 'profile'],
          CallbackURLs: [`https://localhost:${ports[0]}/callback`],
          LogoutURLs: [`https://localhost:${ports[0]}/signed-out`],
          ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }],
      }],
    }),
  });
  rp = await serveHttps({
    port: server.ports[0],
    cert: server.cert,
    key: server.key,
    handler: (req, res) => {
      const { pathname } = new URL(req.url, 'https://localhost');
      if (pathname === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
        res.end(bundle);
      } else if (pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(indexHTML());
      } else {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>Relying party</title><h1>ok</h1>');
      }
    },
  });
  idp = await startIdP();

  const api = adminClient(server);
  await api.send(new CreateIdentityProviderCommand({
    UserPoolId: POOL_ID, ProviderName: PROVIDER, ProviderType: 'SAML',
    ProviderDetails: { MetadataURL: `${idp.url}/metadata`, EncryptedResponses: 'true', IDPSignout: 'true' },
    AttributeMapping: { email: 'urn:oid:0.9.2342.19200300.100.1.3' },
  }));
  await api.send(new UpdateUserPoolClientCommand({
    UserPoolId: POOL_ID, ClientId: CLIENT, ClientName: 'SAML app',
    AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: ['code'],
    AllowedOAuthScopes: SCOPES,
    CallbackURLs: [callback(), `${rp.url}/`], LogoutURLs: [signedOut(), `${rp.url}/`],
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    SupportedIdentityProviders: ['COGNITO', PROVIDER],
  }));
  // The pool registers with the IdP through the metadata Cognate serves.
  const md = await request(`${server.https}/saml2/metadata?user_pool_id=${POOL_ID}&provider_name=${PROVIDER}`, { ca: server.ca });
  assert.equal(md.status, 200, md.text);
  const put = await fetch(`${idp.url}/services/${PROVIDER}`, { method: 'PUT', body: md.text });
  assert.equal(put.status, 204, await put.text());

  browser = await launchBrowser(server.spki);
  page = await (await newContext(browser)).newPage();
});

after(async () => {
  await browser?.close().catch(() => {});
  await rp?.close();
  await server?.stop();
  if (idp) {
    idp.child.kill();
    await rm(idp.dir, { recursive: true, force: true });
  }
});

const step = scenario({ pages: () => [page], server: () => server });

let p;
let code;

step('the managed login page offers the SAML provider, which leads to the IdP', async () => {
  p = pkce();
  await page.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p }));
  await waitForPath(page, '/login', { origin: server.https });
  const button = page.locator('a.provider', { hasText: PROVIDER });
  assert.equal(await button.count(), 1, 'one button for the provider');
  await shot(page, 'login-with-provider');
  await Promise.all([page.waitForURL((u) => u.href.startsWith(`${idp.url}/sso`), { timeout: 15_000 }), button.click()]);
  await shot(page, 'idp-login');
});

step('signing in at the IdP posts the response back and lands at the callback with a code', async () => {
  await page.fill('input[name=user]', IDP_USER);
  await page.fill('input[name=password]', IDP_PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(callback()), { timeout: 30_000 }),
    page.click('input[type=submit]'),
  ]);
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('state'), p.state);
  code = q.get('code');
  assert.ok(code, `no code at ${page.url()}`);
});

step('the tokens are the federated user\'s', async () => {
  const res = await exchangeCode(server, { clientId: CLIENT, redirectUri: callback(), code, verifier: p.verifier });
  assert.equal(res.status, 200, res.text);
  const id = decodeJwt(res.json.id_token);
  assert.equal(id['cognito:username'], `${PROVIDER}_${IDP_EMAIL}`);
  assert.equal(id.email, IDP_EMAIL);
  assert.equal(id.nonce, p.nonce);
  const identities = id.identities;
  assert.equal(identities.length, 1);
  assert.equal(identities[0].providerName, PROVIDER);
  assert.equal(identities[0].providerType, 'SAML');
  assert.equal(identities[0].userId, IDP_EMAIL);
  assert.ok(id['cognito:groups'].includes(`${POOL_ID}_${PROVIDER}`), JSON.stringify(id['cognito:groups']));
});

step('sign-out goes through the IdP and on to the sign-out URL', async () => {
  const q = new URLSearchParams({ client_id: CLIENT, logout_uri: signedOut() });
  await page.goto(`${server.https}/logout?${q}`);
  await page.waitForURL((u) => u.href.startsWith(signedOut()), { timeout: 30_000 });
  // Signed out at the IdP too: a new sign-in asks for the password again.
  await page.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p: pkce(), extra: { identity_provider: PROVIDER } }));
  await page.waitForURL((u) => u.href.startsWith(`${idp.url}/sso`), { timeout: 15_000 });
  assert.equal(await page.locator('input[name=password]').count(), 1, 'the IdP asks for the password again');
  await shot(page, 'idp-login-after-signout');
});

step('bundle aws-amplify for the browser with esbuild', async () => {
  bundle = await bundleForBrowser(ENTRY);
  assert.ok(bundle.length > 10_000);
}, { timeout: 120_000 });

step('Amplify signInWithRedirect({provider: {custom}}) signs in through the SAML IdP', async () => {
  page = await (await newContext(browser)).newPage();
  page.on('pageerror', (err) => process.stderr.write(`[page error] ${err.message}\n`));
  await page.goto(`${rp.url}/`);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(`${idp.url}/sso`), { timeout: 15_000 }),
    page.click('#login'),
  ]);
  await page.fill('input[name=user]', IDP_USER);
  await page.fill('input[name=password]', IDP_PASSWORD);
  await Promise.all([page.waitForURL((u) => u.origin === rp.url, { timeout: 30_000 }), page.click('input[type=submit]')]);
  await page.waitForFunction(
    () => (window.__hub || []).some((e) => e.event === 'signInWithRedirect' || e.event === 'signInWithRedirect_failure'),
    null, { timeout: 20_000 },
  );
  await shot(page, 'amplify-signed-in');
  const hub = await page.evaluate(() => window.__hub);
  assert.equal(hub.find((e) => e.event === 'signInWithRedirect_failure'), undefined, JSON.stringify(hub));
  const s = await page.evaluate(() => window.__api.session());
  assert.ok(s, 'no tokens');
  const id = s.idPayload;
  assert.equal(id['cognito:username'], `${PROVIDER}_${IDP_EMAIL}`);
  assert.equal(s.accessPayload.username, `${PROVIDER}_${IDP_EMAIL}`);
  assert.equal(id.email, IDP_EMAIL);
  assert.equal(id.identities.length, 1, JSON.stringify(id.identities));
  assert.equal(id.identities[0].providerName, PROVIDER);
  assert.equal(id.identities[0].providerType, 'SAML');
  assert.equal(id.identities[0].userId, IDP_EMAIL);
});
