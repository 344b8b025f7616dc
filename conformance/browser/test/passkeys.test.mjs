// Passkeys through the real aws-amplify in Chromium: a page bundling
// aws-amplify 6.22.1 (esbuild), served on http://localhost (a secure
// context, and an origin Cognate accepts for the RP id "localhost" outside
// --production), with a CDP virtual authenticator (CTAP2, internal, resident
// keys, user verification) standing in for the platform's. Amplify signs in
// with a password, registers a passkey (associateWebAuthnCredential:
// StartWebAuthnRegistration, navigator.credentials.create,
// CompleteWebAuthnRegistration), lists it, signs out, signs in with it
// (USER_AUTH with WEB_AUTHN preferred: navigator.credentials.get, then
// RespondToAuthChallenge; and chosen from SELECT_CHALLENGE with
// confirmSignIn), and deletes it.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import {
  PASSWORD, POOL_ID, bundleForBrowser, createUser, launchBrowser, newContext, scenario, screenshotPrefix, shot,
  startServer,
} from './harness.mjs';

screenshotPrefix('passkeys');

const CLIENT = 'passkeyapp';
const EMAIL = 'passkey-user@example.com';

let server;
let app;
let browser;
let page;
let cdp;
let authenticatorId;
let bundle = '';
let sub;
let credentialId;
const targets = [];

const ENTRY = `
import { Amplify } from 'aws-amplify';
import {
  associateWebAuthnCredential, confirmSignIn, deleteWebAuthnCredential, fetchAuthSession, getCurrentUser,
  listWebAuthnCredentials, signIn, signOut,
} from 'aws-amplify/auth';

Amplify.configure(window.__AMPLIFY_CONFIG__);
const fail = (e) => ({ error: String(e && e.name) + ': ' + String(e && e.message) });
const wrap = (fn) => async (...args) => { try { return { ok: await fn(...args) }; } catch (e) { return fail(e); } };
window.__api = {
  signInPassword: wrap((username, password) => signIn({ username, password })),
  signInPasskey: wrap((username) => signIn({ username, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'WEB_AUTHN' } })),
  signInChoice: wrap((username) => signIn({ username, options: { authFlowType: 'USER_AUTH' } })),
  choose: wrap((challengeResponse) => confirmSignIn({ challengeResponse })),
  associate: wrap(() => associateWebAuthnCredential().then(() => 'done')),
  list: wrap(() => listWebAuthnCredentials()),
  remove: wrap((credentialId) => deleteWebAuthnCredential({ credentialId }).then(() => 'done')),
  user: wrap(async () => { const u = await getCurrentUser(); return { username: u.username, userId: u.userId }; }),
  session: wrap(async () => { const s = await fetchAuthSession(); return s.tokens ? s.tokens.accessToken.payload : null; }),
  signOut: wrap(() => signOut().then(() => 'done')),
};
window.__ready = true;
document.getElementById('status').textContent = 'ready';
`;

function indexHTML() {
  const config = {
    Auth: { Cognito: { userPoolId: POOL_ID, userPoolClientId: CLIENT, userPoolEndpoint: server.https } },
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Passkeys</title>
<script>window.__AMPLIFY_CONFIG__ = ${JSON.stringify(config)};</script>
<script type="module" src="/app.js"></script></head>
<body><h1>Passkeys with Amplify</h1><p id="status">loading</p></body></html>`;
}

before(async () => {
  server = await startServer({
    extraPorts: 1,
    config: {
      UserPools: [{
        Id: POOL_ID,
        PoolName: 'passkeys',
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'WEB_AUTHN'] } },
        Clients: [{
          ClientId: CLIENT,
          ClientName: 'Passkey app',
          ExplicitAuthFlows: ['ALLOW_USER_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }],
      }],
    },
  });
  const port = server.ports[0];
  app = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    if (pathname === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(bundle);
    } else if (pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(indexHTML());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise((resolve, reject) => {
    app.once('error', reject);
    app.listen(port, '127.0.0.1', resolve);
  });
  app.url = `http://localhost:${port}`;
  browser = await launchBrowser(server.spki);
  const context = await newContext(browser);
  page = await context.newPage();
  page.on('pageerror', (err) => process.stderr.write(`[page error] ${err.message}\n`));
  page.on('request', (req) => {
    const target = req.headers()['x-amz-target'];
    if (target) targets.push(target.replace('AWSCognitoIdentityProviderService.', ''));
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await new Promise((resolve) => (app ? app.close(() => resolve()) : resolve()));
  await server?.stop();
});

const step = scenario({ pages: () => [page], server: () => server });
const api = (name, ...args) => page.evaluate(([n, a]) => window.__api[n](...a), [name, args]);
const ok = (res, what) => {
  assert.ok(!res.error, `${what}: ${res.error}`);
  return res.ok;
};
const since = (from) => targets.slice(from);

step('bundle aws-amplify for the browser with esbuild', async () => {
  bundle = await bundleForBrowser(ENTRY);
  assert.ok(bundle.length > 10_000, `bundle is ${bundle.length} bytes`);
}, { timeout: 120_000 });

step('a user exists, and the page loads on http://localhost', async () => {
  sub = await createUser(server, EMAIL, PASSWORD);
  await page.goto(`${app.url}/`);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
});

step('a CDP virtual authenticator (ctap2, internal, resident keys, user verification)', async () => {
  cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  }));
  assert.ok(authenticatorId);
});

step('sign in with the password', async () => {
  const res = ok(await api('signInPassword', EMAIL, PASSWORD), 'signIn');
  assert.equal(res.isSignedIn, true, JSON.stringify(res));
});

step('associateWebAuthnCredential registers a passkey', async () => {
  const from = targets.length;
  assert.equal(ok(await api('associate'), 'associateWebAuthnCredential'), 'done');
  assert.deepEqual(since(from).filter((t) => t.includes('WebAuthn')), ['StartWebAuthnRegistration', 'CompleteWebAuthnRegistration']);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the authenticator holds one credential');
  assert.equal(credentials[0].rpId, 'localhost');
  assert.equal(credentials[0].isResidentCredential, true);
  assert.equal(Buffer.from(credentials[0].userHandle, 'base64').toString(), sub, 'the user handle is the sub');
  await shot(page, 'registered');
});

step('listWebAuthnCredentials shows it', async () => {
  const { credentials, nextToken } = ok(await api('list'), 'listWebAuthnCredentials');
  assert.equal(credentials.length, 1, JSON.stringify(credentials));
  const [c] = credentials;
  assert.equal(c.relyingPartyId, 'localhost');
  assert.equal(c.authenticatorAttachment, 'platform');
  assert.deepEqual(c.authenticatorTransports, ['internal']);
  assert.ok(c.friendlyCredentialName);
  assert.ok(Math.abs(new Date(c.createdAt).getTime() - Date.now()) < 120_000, `createdAt ${c.createdAt}`);
  assert.equal(nextToken, undefined);
  const { credentials: [cdpCred] } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(c.credentialId, Buffer.from(cdpCred.credentialId, 'base64').toString('base64url'));
  credentialId = c.credentialId;
});

step('sign out, then sign in with the passkey (USER_AUTH, WEB_AUTHN)', async () => {
  ok(await api('signOut'), 'signOut');
  const from = targets.length;
  const res = ok(await api('signInPasskey', EMAIL), 'signIn with WEB_AUTHN');
  assert.equal(res.isSignedIn, true, JSON.stringify(res));
  assert.deepEqual(since(from), ['InitiateAuth', 'RespondToAuthChallenge']);
  const user = ok(await api('user'), 'getCurrentUser');
  assert.equal(user.userId, sub);
  const access = ok(await api('session'), 'fetchAuthSession');
  assert.equal(access.sub, sub);
  const { credentials: [cdpCred] } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(cdpCred.signCount >= 1, `sign count ${cdpCred.signCount}`);
  await shot(page, 'signed-in-with-passkey');
});

step('sign in choosing the passkey (SELECT_CHALLENGE, then confirmSignIn WEB_AUTHN)', async () => {
  ok(await api('signOut'), 'signOut');
  const first = ok(await api('signInChoice', EMAIL), 'signIn with USER_AUTH');
  assert.equal(first.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION', JSON.stringify(first));
  assert.ok(first.nextStep.availableChallenges.includes('WEB_AUTHN'), JSON.stringify(first.nextStep));
  const res = ok(await api('choose', 'WEB_AUTHN'), 'confirmSignIn WEB_AUTHN');
  assert.equal(res.isSignedIn, true, JSON.stringify(res));
  assert.equal(ok(await api('user'), 'getCurrentUser').userId, sub);
});

step('deleteWebAuthnCredential removes it, and the passkey no longer signs in', async () => {
  assert.equal(ok(await api('remove', credentialId), 'deleteWebAuthnCredential'), 'done');
  const { credentials } = ok(await api('list'), 'listWebAuthnCredentials');
  assert.deepEqual(credentials, []);
  ok(await api('signOut'), 'signOut');
  const res = await api('signInPasskey', EMAIL);
  assert.ok(res.error || res.ok.isSignedIn !== true, `signed in with a deleted passkey: ${JSON.stringify(res)}`);
});
