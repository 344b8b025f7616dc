// Federation in a real Chromium: the pool under test (a `cognate serve`
// over HTTPS) signs users in through an OpenID Connect provider that is a
// second `cognate serve` (its pool's hosted UI, a confidential app client
// there). Once through the managed login page's provider button (the app's
// code redeemed by this test), once through Amplify's
// signInWithRedirect({ provider: { custom: 'Upstream' } }), then Amplify's
// signOut. Last, a second provider user linked to an existing local user
// (AdminLinkProviderForUser) signs in as that local user.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  AdminCreateUserCommand, AdminLinkProviderForUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient,
  CreateIdentityProviderCommand, CreateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import { startCognate } from '../../lib/cognate.mjs';
import {
  PASSWORD, POOL_ID, REGION, adminClient, authorizeURL, bundleForBrowser, decodeJwt, exchangeCode, launchBrowser,
  newContext, pkce, scenario, screenshotPrefix, serveHttps, shot, startServer, toHostedPage,
} from './harness.mjs';

screenshotPrefix('federation');

const CLIENT = 'fedapp';
const PROVIDER = 'Upstream';
const EMAIL = 'federated-user@example.com';
const LINKED_EMAIL = 'linked-upstream@example.com';
const LOCAL_EMAIL = 'local-user@example.com';
const SCOPES = ['openid', 'email', 'profile', 'aws.cognito.signin.user.admin'];

let server; // the pool under test
let upstream; // the provider: { cognate, api, pool, sub }
let app;
let browser;
let page;
let bundle = '';

const ENTRY = `
import { Amplify } from 'aws-amplify';
import { fetchAuthSession, signInWithRedirect, signOut } from 'aws-amplify/auth';
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
document.getElementById('logout').addEventListener('click', () => {
  signOut().catch((e) => { window.__error = String(e); });
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
            redirectSignIn: [`${app.url}/`], redirectSignOut: [`${app.url}/`],
          },
        },
      },
    },
  };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Federated app</title>
<script>window.__AMPLIFY_CONFIG__ = ${JSON.stringify(config)};</script>
<script type="module" src="/app.js"></script></head>
<body><h1>Federated app</h1><button id="login">Sign in with ${PROVIDER}</button><button id="logout">Sign out</button></body></html>`;
}

/** Starts the provider: a second cognate serve over plain HTTP on loopback, its public URL its own. */
async function startUpstream() {
  const cognate = await startCognate({
    name: 'upstream',
    args: (ports) => ['--tls-addr', 'off', '--public-url', `http://127.0.0.1:${ports[0]}`, '--demo-addr', 'off'],
  });
  const creds = await cognate.waitForJson('admin-credentials.json');
  const outputs = await cognate.waitForJson('amplify_outputs.json');
  const api = new CognitoIdentityProviderClient({
    endpoint: cognate.http, region: REGION, maxAttempts: 1,
    credentials: { accessKeyId: creds.access_key_id, secretAccessKey: creds.secret_access_key },
  });
  return { cognate, api, pool: outputs.auth.user_pool_id };
}

before(async () => {
  server = await startServer({
    extraPorts: 1,
    config: ({ ports }) => ({
      UserPools: [{
        Id: POOL_ID,
        PoolName: 't',
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        Clients: [{
          ClientId: CLIENT,
          ClientName: 'Federated app',
          AllowedOAuthFlowsUserPoolClient: true,
          AllowedOAuthFlows: ['code'],
          AllowedOAuthScopes: SCOPES,
          CallbackURLs: [`https://localhost:${ports[0]}/`, `https://localhost:${ports[0]}/cb`],
          LogoutURLs: [`https://localhost:${ports[0]}/`],
          SupportedIdentityProviders: ['COGNITO', PROVIDER],
          ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }],
      }],
    }),
  });
  upstream = await startUpstream();
  app = await serveHttps({
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
      } else if (pathname === '/cb') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>callback</title><p>back at the app</p>');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      }
    },
  });
  browser = await launchBrowser(server.spki);
});

after(async () => {
  await browser?.close().catch(() => {});
  await app?.close();
  await upstream?.cognate.stop();
  await server?.stop();
});

const step = scenario({ pages: () => [page], server: () => server });

step('bundle aws-amplify for the browser with esbuild', async () => {
  bundle = await bundleForBrowser(ENTRY);
  assert.ok(bundle.length > 10_000);
}, { timeout: 120_000 });

step('the provider: a confidential client and a user on the second cognate', async () => {
  const c = await upstream.api.send(new CreateUserPoolClientCommand({
    UserPoolId: upstream.pool, ClientName: 'downstream', GenerateSecret: true,
    AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: ['code'], AllowedOAuthScopes: ['openid', 'email', 'profile'],
    CallbackURLs: [`${server.https}/oauth2/idpresponse`],
  }));
  upstream.clientId = c.UserPoolClient.ClientId;
  upstream.secret = c.UserPoolClient.ClientSecret;
  const u = await upstream.api.send(new AdminCreateUserCommand({
    UserPoolId: upstream.pool, Username: EMAIL, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: EMAIL }, { Name: 'email_verified', Value: 'true' }, { Name: 'name', Value: 'Fed User' }],
  }));
  await upstream.api.send(new AdminSetUserPasswordCommand({ UserPoolId: upstream.pool, Username: EMAIL, Password: PASSWORD, Permanent: true }));
  upstream.sub = u.User.Attributes.find((a) => a.Name === 'sub').Value;
});

step('the pool under test: CreateIdentityProvider (OIDC, discovery at the provider)', async () => {
  const out = await adminClient(server).send(new CreateIdentityProviderCommand({
    UserPoolId: POOL_ID, ProviderName: PROVIDER, ProviderType: 'OIDC',
    ProviderDetails: {
      client_id: upstream.clientId, client_secret: upstream.secret, attributes_request_method: 'GET',
      oidc_issuer: `${upstream.cognate.http}/${upstream.pool}`, authorize_scopes: 'openid email profile',
    },
    AttributeMapping: { email: 'email', email_verified: 'email_verified', name: 'name' },
  }));
  assert.equal(out.IdentityProvider.ProviderName, PROVIDER);
});

/** Checks the federated user's id-token claims. */
function checkClaims(id) {
  assert.equal(id['cognito:username'], `${PROVIDER}_${upstream.sub}`);
  assert.equal(id.email, EMAIL);
  assert.ok((id['cognito:groups'] ?? []).includes(`${POOL_ID}_${PROVIDER}`), `groups ${JSON.stringify(id['cognito:groups'])}`);
  assert.ok(Array.isArray(id.identities) && id.identities.length === 1, `identities ${JSON.stringify(id.identities)}`);
  assert.equal(id.identities[0].providerName, PROVIDER);
  assert.equal(id.identities[0].providerType, 'OIDC');
  assert.equal(id.identities[0].userId, upstream.sub);
}

step('the managed login page\'s provider button signs in through the provider', async () => {
  page = await (await newContext(browser)).newPage();
  const p = pkce();
  const redirectUri = `${app.url}/cb`;
  await toHostedPage(page, server, '/login', () => page.goto(authorizeURL(server, { clientId: CLIENT, redirectUri, p })));
  await shot(page, 'login-with-provider-button');
  await Promise.all([
    page.waitForURL((u) => u.origin === upstream.cognate.http && u.pathname === '/login', { timeout: 15_000 }),
    page.click(`a.provider:has-text("${PROVIDER}")`),
  ]);
  await shot(page, 'provider-login');
  await page.fill('input[name=username]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL((u) => u.origin === app.url && u.pathname === '/cb', { timeout: 20_000 }), page.click('#signin')]);
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('state'), p.state);
  const res = await exchangeCode(server, { clientId: CLIENT, redirectUri, code: q.get('code'), verifier: p.verifier });
  assert.equal(res.status, 200, res.text);
  const id = decodeJwt(res.json.id_token);
  assert.equal(id.nonce, p.nonce);
  checkClaims(id);
  await page.context().close();
});

/** Signs in through the provider from the Amplify page; resolves with the session. */
async function amplifySignIn(email) {
  await page.goto(`${app.url}/`);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
  await Promise.all([
    page.waitForURL((u) => u.origin === upstream.cognate.http && u.pathname === '/login', { timeout: 15_000 }),
    page.click('#login'),
  ]);
  await page.fill('input[name=username]', email);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL((u) => u.origin === app.url, { timeout: 20_000 }), page.click('#signin')]);
  await page.waitForFunction(
    () => (window.__hub || []).some((e) => e.event === 'signInWithRedirect' || e.event === 'signInWithRedirect_failure'),
    null, { timeout: 20_000 },
  );
  const hub = await page.evaluate(() => window.__hub);
  assert.equal(hub.find((e) => e.event === 'signInWithRedirect_failure'), undefined, JSON.stringify(hub));
  return page.evaluate(() => window.__api.session());
}

step('Amplify signInWithRedirect({provider: {custom}}) signs in through the provider', async () => {
  page = await (await newContext(browser)).newPage();
  page.on('pageerror', (err) => process.stderr.write(`[page error] ${err.message}\n`));
  const s = await amplifySignIn(EMAIL);
  await shot(page, 'amplify-signed-in');
  assert.ok(s, 'no tokens');
  checkClaims(s.idPayload);
  assert.equal(s.accessPayload.username, `${PROVIDER}_${upstream.sub}`);
});

step('Amplify signOut goes through /logout; the tokens are gone', async () => {
  await Promise.all([
    page.waitForURL((u) => u.origin === server.https, { timeout: 15_000 }).catch(() => {}),
    page.click('#logout'),
  ]);
  await page.waitForURL((u) => u.origin === app.url, { timeout: 15_000 });
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.__api.session()), null);
});

let local; // the local user: { username, sub }
let linkedSub;

step('AdminLinkProviderForUser links a new provider user to an existing local user', async () => {
  const up = await upstream.api.send(new AdminCreateUserCommand({
    UserPoolId: upstream.pool, Username: LINKED_EMAIL, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: LINKED_EMAIL }, { Name: 'email_verified', Value: 'true' }],
  }));
  await upstream.api.send(new AdminSetUserPasswordCommand({ UserPoolId: upstream.pool, Username: LINKED_EMAIL, Password: PASSWORD, Permanent: true }));
  linkedSub = up.User.Attributes.find((a) => a.Name === 'sub').Value;
  const api = adminClient(server);
  const u = await api.send(new AdminCreateUserCommand({
    UserPoolId: POOL_ID, Username: LOCAL_EMAIL, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: LOCAL_EMAIL }, { Name: 'email_verified', Value: 'true' }],
  }));
  local = { username: u.User.Username, sub: u.User.Attributes.find((a) => a.Name === 'sub').Value };
  await api.send(new AdminLinkProviderForUserCommand({
    UserPoolId: POOL_ID,
    DestinationUser: { ProviderName: 'Cognito', ProviderAttributeValue: local.username },
    SourceUser: { ProviderName: PROVIDER, ProviderAttributeName: 'Cognito_Subject', ProviderAttributeValue: linkedSub },
  }));
});

step('signing in through the provider as the linked user gives the local user\'s tokens', async () => {
  page = await (await newContext(browser)).newPage();
  page.on('pageerror', (err) => process.stderr.write(`[page error] ${err.message}\n`));
  const s = await amplifySignIn(LINKED_EMAIL);
  await shot(page, 'amplify-linked-signed-in');
  assert.ok(s, 'no tokens');
  assert.equal(s.idPayload['cognito:username'], local.username);
  assert.equal(s.idPayload.sub, local.sub);
  assert.equal(s.accessPayload.username, local.username);
  assert.equal(s.accessPayload.sub, local.sub);
  const ids = s.idPayload.identities ?? [];
  assert.ok(ids.some((i) => i.providerName === PROVIDER && i.userId === linkedSub), JSON.stringify(ids));
});

step('the linked user signs out through Amplify; the tokens are gone', async () => {
  // Back at the app only once /logout redirected there: the next document.
  await Promise.all([
    page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() && f.url().startsWith(app.url), timeout: 15_000 }),
    page.click('#logout'),
  ]);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.__api.session()), null);
});
