// The hosted pages in a real Chromium over HTTPS: sign up, confirm (a wrong
// code, a resent code), sign in, the callback with a code, the exchange,
// the pool session, logout, a wrong password, French, password reset and
// the new-password page of an admin-created user. Every page visited is
// saved as a screenshot under artifacts/.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import { AdminCreateUserCommand } from '@aws-sdk/client-cognito-identity-provider';

import {
  DESKTOP, PASSWORD, POOL_ID, adminClient, authorizeURL, decodeJwt, exchangeCode, freePort, launchBrowser, newContext,
  outboxSnapshot, pkce, scenario, screenshotPrefix, serveHttps, shot, startServer, visibleErrors, waitForCode,
  waitForPath,
} from './harness.mjs';

screenshotPrefix('hosted');

const CLIENT = 'browserapp';
const EMAIL = 'grace@example.com';
const NEW_PASSWORD = 'Battery-Staple-7';

let server;
let rp;
let browser;
let context;
let page;
const rpVisits = [];

const callback = () => `${rp.url}/callback`;
const signedOut = () => `${rp.url}/signed-out`;

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
          ClientName: 'Browser app',
          AllowedOAuthFlowsUserPoolClient: true,
          AllowedOAuthFlows: ['code'],
          AllowedOAuthScopes: ['openid', 'email', 'profile', 'aws.cognito.signin.user.admin'],
          CallbackURLs: [`https://localhost:${ports[0]}/callback`],
          LogoutURLs: [`https://localhost:${ports[0]}/signed-out`],
          ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }],
      }],
    }),
  });
  // The relying party: answers every path with a small page.
  rp = await serveHttps({
    port: server.ports[0],
    cert: server.cert,
    key: server.key,
    handler: (req, res) => {
      rpVisits.push(req.url);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><meta name="viewport" content="width=device-width"><title>Relying party</title><h1>ok</h1>');
    },
  });
  browser = await launchBrowser(server.spki);
  context = await newContext(browser);
  page = await context.newPage();
});

after(async () => {
  await browser?.close().catch(() => {});
  await rp?.close();
  await server?.stop();
});

/** Clicks selector and waits for the navigation it starts to load. */
async function submit(selector, p = page) {
  await Promise.all([p.waitForNavigation({ waitUntil: 'load', timeout: 15_000 }), p.click(selector)]);
}

const step = scenario({ pages: () => [page], server: () => server });

let first; // the first authorization request: { verifier, challenge, state, nonce }
let firstTokens;
let sub;

step('authorize without a session shows the login page (HTTPS, trusted certificate)', async () => {
  first = pkce();
  const res = await page.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p: first }));
  assert.ok(res, 'no response');
  await waitForPath(page, '/login', { origin: server.https });
  await shot(page, 'login-phone');
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('client_id'), CLIENT);
  assert.equal(q.get('redirect_uri'), callback());
  assert.equal(q.get('state'), first.state);
  for (const sel of ['input[name=username]', 'input[name=password]', '#signin']) {
    assert.equal(await page.locator(sel).count(), 1, `${sel} on the login page`);
  }
  assert.ok(await page.locator('a[href*="/signup"]').count() > 0, 'a link to sign up');
  assert.ok(await page.locator('a[href*="/forgotPassword"]').count() > 0, 'a link to reset the password');
  assert.equal(await page.getAttribute('input[name=password]', 'type'), 'password');
});

step('the login page fits a phone screen', async () => {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the 390px viewport`);
  const box = await page.locator('#signin').boundingBox();
  assert.ok(box && box.width > 0 && box.x >= 0 && box.x + box.width <= 390, `#signin at ${JSON.stringify(box)}`);
}, { soft: true });

step('the login page is labelled and works with password managers', async () => {
  const fields = await page.$$eval('form input:not([type=hidden])', (els) => els.map((el) => ({
    name: el.name,
    autocomplete: el.getAttribute('autocomplete'),
    labelled: Boolean((el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) || el.closest('label')
      || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')),
  })));
  for (const f of fields) assert.ok(f.labelled, `input ${f.name} has no label`);
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
  assert.match(byName.username?.autocomplete ?? '', /\b(username|email)\b/, 'username autocomplete');
  assert.match(byName.password?.autocomplete ?? '', /\bcurrent-password\b/, 'password autocomplete');
}, { soft: true });

step('the browser refuses a certificate other than the server\'s', async () => {
  // The CA's own certificate and key, served as a leaf: not the pinned
  // public key, not valid for localhost. Navigation must fail.
  const caKey = await readFile(path.join(server.dataDir, 'tls', 'ca-key.pem'), 'utf8');
  const other = await serveHttps({ port: await freePort(), cert: server.ca, key: caKey, handler: (req, res) => res.end('untrusted') });
  const ctx = await newContext(browser);
  try {
    const p = await ctx.newPage();
    await assert.rejects(p.goto(`${other.url}/`), /ERR_CERT|SSL|certificate/i);
  } finally {
    await ctx.close();
    await other.close();
  }
}, { soft: true });

step('the login page at desktop size', async () => {
  const desktop = await newContext(browser, DESKTOP);
  try {
    const p = await desktop.newPage();
    await p.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p: pkce() }));
    await waitForPath(p, '/login', { origin: server.https });
    await shot(p, 'login-desktop');
  } finally {
    await desktop.close();
  }
}, { soft: true });

step('sign up on the hosted page', async () => {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('a[href*="/signup"]')]);
  await waitForPath(page, '/signup', { origin: server.https });
  await shot(page, 'signup');
  await page.fill('input[name=username]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await page.fill('input[name=name]', 'Grace Hopper');
  await submit('#signup');
  await waitForPath(page, '/confirm', { origin: server.https });
  await shot(page, 'confirm');
  assert.equal(await page.locator('input[name=code]').count(), 1, 'a code input');
  assert.equal(await page.locator('#resend').count(), 1, 'a resend button');
});

let code1;
step('a wrong code on /confirm shows an error', async () => {
  code1 = await waitForCode(server, { destination: EMAIL, kind: 'sign_up' });
  assert.match(code1, /^\d{6}$/);
  const wrong = code1 === '000000' ? '111111' : '000000';
  await page.fill('input[name=code]', wrong);
  await submit('#confirm');
  await waitForPath(page, '/confirm', { origin: server.https });
  await shot(page, 'confirm-wrong-code');
  const errors = await visibleErrors(page);
  assert.ok(errors.length > 0, 'no visible .error after a wrong code');
  assert.equal(await page.getAttribute('input[name=code]', 'aria-invalid'), 'true', 'the code input is aria-invalid');
});

let code2;
step('resend sends a new code; the replaced code is refused', async () => {
  const snap = await outboxSnapshot(server);
  await submit('#resend');
  await waitForPath(page, '/confirm', { origin: server.https });
  await shot(page, 'confirm-resent');
  code2 = await waitForCode(server, { destination: EMAIL, kind: 'sign_up', exclude: snap });
  if (code2 === code1) return; // nothing to check: the same code came again
  await page.fill('input[name=code]', code1);
  await submit('#confirm');
  await waitForPath(page, '/confirm', { origin: server.https });
  await shot(page, 'confirm-replaced-code');
  assert.ok((await visibleErrors(page)).length > 0, 'the replaced code was not refused with an error');
});

step('confirm, sign in, and land on the callback with a code', async () => {
  await page.fill('input[name=code]', code2);
  await submit('#confirm');
  const onServer = () => new URL(page.url()).origin === server.https;
  if (onServer()) {
    await waitForPath(page, '/login', { origin: server.https });
    await shot(page, 'login-after-confirm');
    await page.fill('input[name=username]', EMAIL);
    await page.fill('input[name=password]', PASSWORD);
    await submit('#signin');
  }
  await waitForPath(page, '/callback', { origin: rp.url });
  await shot(page, 'callback');
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('state'), first.state);
  assert.ok(q.get('code'), 'no code on the callback');
  const res = await exchangeCode(server, { clientId: CLIENT, redirectUri: callback(), code: q.get('code'), verifier: first.verifier });
  assert.equal(res.status, 200, `token endpoint: ${res.status} ${res.text}`);
  firstTokens = res.json;
  assert.equal(firstTokens.token_type, 'Bearer');
  assert.ok(firstTokens.refresh_token, 'no refresh_token');
  const id = decodeJwt(firstTokens.id_token);
  const access = decodeJwt(firstTokens.access_token);
  sub = id.sub;
  assert.equal(id.iss, `${server.https}/${POOL_ID}`);
  assert.equal(id.aud, CLIENT);
  assert.equal(id.nonce, first.nonce);
  assert.equal(id.email, EMAIL);
  assert.equal(id.email_verified, true);
  assert.equal(id.name, 'Grace Hopper');
  assert.equal(access.username, sub);
  assert.equal(access.client_id, CLIENT);
  assert.deepEqual(access.scope.split(' ').sort(), ['email', 'openid', 'profile']);
});

step('the session cookie is HttpOnly, Secure and SameSite=Lax', async () => {
  const cookie = (await context.cookies(server.https)).find((c) => c.name === `cognate_session_${POOL_ID}`);
  assert.ok(cookie, 'no session cookie in the browser');
  assert.equal(cookie.httpOnly, true, 'HttpOnly');
  assert.equal(cookie.secure, true, 'Secure');
  assert.equal(cookie.sameSite, 'Lax', 'SameSite');
}, { soft: true });

step('a second authorization needs no password (pool session)', async () => {
  const p = pkce();
  await page.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p }));
  await waitForPath(page, '/callback', { origin: rp.url });
  await shot(page, 'callback-from-session');
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('state'), p.state);
  const res = await exchangeCode(server, { clientId: CLIENT, redirectUri: callback(), code: q.get('code'), verifier: p.verifier });
  assert.equal(res.status, 200, `token endpoint: ${res.status} ${res.text}`);
  const id = decodeJwt(res.json.id_token);
  assert.equal(id.sub, sub);
  assert.equal(id.nonce, p.nonce);
  assert.equal(id.auth_time, decodeJwt(firstTokens.id_token).auth_time, 'auth_time is the sign-in time');
});

step('logout ends the session and returns to the registered sign-out URL', async () => {
  const q = new URLSearchParams({ client_id: CLIENT, logout_uri: signedOut() });
  await page.goto(`${server.https}/logout?${q}`);
  await waitForPath(page, '/signed-out', { origin: rp.url });
  await shot(page, 'signed-out');
  const cookies = await context.cookies(server.https);
  assert.ok(!cookies.some((c) => c.name === `cognate_session_${POOL_ID}`), 'the session cookie survived logout');
  await page.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p: pkce() }));
  await waitForPath(page, '/login', { origin: server.https });
  await shot(page, 'login-after-logout');
});

step('a wrong password shows an error next to the field', async () => {
  const p = pkce();
  await page.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p }));
  await waitForPath(page, '/login', { origin: server.https });
  await page.fill('input[name=username]', EMAIL);
  await page.fill('input[name=password]', 'Wrong-Pass-1');
  await submit('#signin');
  await waitForPath(page, '/login', { origin: server.https });
  await shot(page, 'login-wrong-password');
  assert.ok((await visibleErrors(page)).length > 0, 'no visible .error');
  assert.equal(await page.getAttribute('input[name=password]', 'aria-invalid'), 'true', 'password input aria-invalid');
  // "Next to the field": the input names the message with aria-describedby,
  // or the message sits in the field's own container.
  const near = await page.evaluate(() => {
    const input = document.querySelector('input[name=password]');
    const described = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean)
      .map((id) => document.getElementById(id)).filter((el) => el && el.textContent.trim());
    if (described.length) return `aria-describedby: ${described[0].textContent.trim()}`;
    const box = input.closest('div, p, label, fieldset, li');
    const err = box && box.querySelector('.error');
    return err && err.textContent.trim() ? `container: ${err.textContent.trim()}` : null;
  });
  assert.ok(near, 'the error is neither aria-describedby of the password input nor in its container');
  // The password input was cleared, the username kept.
  assert.equal(await page.inputValue('input[name=username]'), EMAIL);
  // The right password now works and completes the original request.
  await page.fill('input[name=password]', PASSWORD);
  await submit('#signin');
  await waitForPath(page, '/callback', { origin: rp.url });
  assert.equal(new URL(page.url()).searchParams.get('state'), p.state);
});

step('lang=fr renders the login page in French', async () => {
  const fr = await newContext(browser);
  try {
    const p = await fr.newPage();
    await p.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p: pkce(), extra: { lang: 'fr' } }));
    await waitForPath(p, '/login', { origin: server.https });
    await shot(p, 'login-fr');
    assert.match(await p.getAttribute('html', 'lang') ?? '', /^fr/);
    assert.match((await p.textContent('body')).toLowerCase(), /mot de passe/);
  } finally {
    await fr.close();
  }
}, { soft: true });

step('forgot password: code by email, new password, sign in', async () => {
  const fresh = await newContext(browser);
  try {
    const p = await fresh.newPage();
    const req = pkce();
    await p.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p: req }));
    await waitForPath(p, '/login', { origin: server.https });
    await Promise.all([p.waitForNavigation({ waitUntil: 'load' }), p.click('a[href*="/forgotPassword"]')]);
    await waitForPath(p, '/forgotPassword', { origin: server.https });
    await shot(p, 'forgot-password');
    const snap = await outboxSnapshot(server);
    await p.fill('input[name=username]', EMAIL);
    await submit('#send-code', p);
    await waitForPath(p, '/confirmForgotPassword', { origin: server.https });
    await shot(p, 'confirm-forgot-password');
    const code = await waitForCode(server, { destination: EMAIL, kind: 'forgot_password', exclude: snap });
    await p.fill('input[name=code]', code);
    await p.fill('input[name=password]', NEW_PASSWORD);
    await submit('#reset', p);
    if (new URL(p.url()).origin === server.https) {
      await waitForPath(p, '/login', { origin: server.https });
      await shot(p, 'login-after-reset');
      await p.fill('input[name=username]', EMAIL);
      await p.fill('input[name=password]', NEW_PASSWORD);
      await submit('#signin', p);
    }
    await waitForPath(p, '/callback', { origin: rp.url });
    assert.equal(new URL(p.url()).searchParams.get('state'), req.state);
  } finally {
    await fresh.close();
  }
}, { soft: true });

step('an admin-created user sets a new password (the /newPassword form)', async () => {
  const api = adminClient(server);
  const email = 'ada@example.com';
  await api.send(new AdminCreateUserCommand({
    UserPoolId: POOL_ID, Username: email, TemporaryPassword: 'Temp-Pass-123', MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }],
  }));
  const fresh = await newContext(browser);
  try {
    const p = await fresh.newPage();
    const req = pkce();
    await p.goto(authorizeURL(server, { clientId: CLIENT, redirectUri: callback(), p: req }));
    await waitForPath(p, '/login', { origin: server.https });
    await p.fill('input[name=username]', email);
    await p.fill('input[name=password]', 'Temp-Pass-123');
    await submit('#signin', p);
    // The new-password form (posting to /newPassword) may be the answer to
    // the login POST, at the /login URL.
    await p.waitForSelector('#set-password', { timeout: 10_000 });
    assert.equal(new URL(p.url()).origin, server.https);
    assert.equal(new URL(await p.$eval('#set-password', (b) => new URL(b.form.getAttribute('action'), document.baseURI).href)).pathname, '/newPassword');
    await shot(p, 'new-password');
    await p.fill('input[name=password]', 'weak');
    await submit('#set-password', p);
    await p.waitForSelector('#set-password', { timeout: 10_000 });
    await shot(p, 'new-password-weak');
    assert.ok((await visibleErrors(p)).length > 0, 'no error for a weak password');
    await p.fill('input[name=password]', NEW_PASSWORD);
    await submit('#set-password', p);
    await waitForPath(p, '/callback', { origin: rp.url });
    assert.equal(new URL(p.url()).searchParams.get('state'), req.state);
  } finally {
    await fresh.close();
  }
}, { soft: true });
