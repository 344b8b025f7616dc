// The demo's live panel in a real Chromium: two users in two browser
// contexts, signed in to the demo in HttpOnly mode, each with the
// dashboard's chat open. The panel gets its access token from the session
// library's token endpoint (the cookies stay HttpOnly) and speaks the
// AppSync Events WebSocket protocol to the server's events API; a message
// one user sends appears for both, with the sender's email.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  DESKTOP, PASSWORD, createUser, decodeJwt, launchBrowser, newContext, scenario, screenshotPrefix, shot, startServer,
} from './harness.mjs';
import { passwordSignIn, sidebar } from './demo.mjs';

screenshotPrefix('demo-live');

const tag = Date.now().toString(36);
const users = [
  { email: `ada-${tag}@example.com` },
  { email: `grace-${tag}@example.com` },
];

let server;
let demo;
let browser;

before(async () => {
  server = await startServer({ demo: true });
  demo = server.demo;
  browser = await launchBrowser(server.spki);
  for (const u of users) {
    u.context = await newContext(browser, DESKTOP);
    u.page = await u.context.newPage();
    u.page.on('pageerror', (err) => process.stderr.write(`[page error ${u.email}] ${err.message}\n`));
    // What the panel asks the token endpoint, and the sockets it opens.
    u.tokenCalls = [];
    u.sockets = [];
    u.page.on('response', async (res) => {
      if (new URL(res.url()).pathname !== '/api/auth/token') return;
      const call = { status: res.status(), header: undefined, cacheControl: res.headers()['cache-control'] ?? null };
      u.tokenCalls.push(call);
      call.header = (await res.request().headerValue('x-cognate-token').catch(() => null)) ?? null;
    });
    u.page.on('websocket', (ws) => {
      const s = { url: ws.url(), sent: [], received: [], closed: false };
      ws.on('framesent', (f) => s.sent.push(String(f.payload)));
      ws.on('framereceived', (f) => s.received.push(String(f.payload)));
      ws.on('close', () => { s.closed = true; });
      u.sockets.push(s);
    });
  }
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const step = scenario({ pages: () => users.map((u) => u.page), server: () => server });
const [ada, grace] = users;

/** The messages the panel shows: [{from, text}]. */
const messages = (page) => page.$$eval('[data-testid=live-message]', (els) => els.map((el) => ({
  from: el.querySelector('[data-testid=live-message-from]')?.textContent.trim() ?? null,
  text: el.querySelector('[data-testid=live-message-text]')?.textContent.trim() ?? null,
  mine: el.dataset.mine ?? null,
})));

async function waitForMessage(page, text) {
  await page.waitForFunction((t) => [...document.querySelectorAll('[data-testid=live-message-text]')]
    .some((el) => el.textContent.trim() === t), text, { timeout: 10_000 });
  return (await messages(page)).find((m) => m.text === text);
}

async function send(page, text) {
  await page.fill('#live-input', text);
  await page.click('#live-send');
}

step('two users exist and sign in to the demo (HttpOnly mode, password page)', async () => {
  for (const u of users) {
    u.sub = await createUser(server, u.email, PASSWORD);
    await passwordSignIn(u.page, demo, { email: u.email, password: PASSWORD, redirect: '/dashboard' });
    assert.deepEqual(await sidebar(u.page), { state: 'signed-in', email: u.email, admin: false });
    const visible = await u.page.evaluate(() => document.cookie);
    assert.ok(!visible.includes('CognitoIdentityServiceProvider'), `tokens visible to scripts: ${visible}`);
  }
});

step('the token endpoint answers same-origin scripts that send the header only', async () => {
  const out = await ada.page.evaluate(async () => {
    const bare = await fetch('/api/auth/token', { credentials: 'same-origin' });
    const ok = await fetch('/api/auth/token', { credentials: 'same-origin', headers: { 'X-Cognate-Token': '1' } });
    return { bare: bare.status, ok: ok.status, body: await ok.json() };
  });
  assert.equal(out.bare, 403, 'without X-Cognate-Token');
  assert.equal(out.ok, 200);
  assert.equal(decodeJwt(out.body.accessToken).sub, ada.sub);
  assert.ok(out.body.expiresAt * 1000 > Date.now());
  // From another origin (the pool's HTTPS pages), the browser sends the
  // custom header only after a CORS preflight, which is never answered.
  const cross = await ada.page.context().newPage();
  try {
    await cross.goto(`${server.https}/healthz`);
    const status = await cross.evaluate(async (url) => {
      try {
        const r = await fetch(url, { credentials: 'include', headers: { 'X-Cognate-Token': '1' } });
        return r.status;
      } catch {
        return 'blocked';
      }
    }, `${demo}/api/auth/token`);
    assert.equal(status, 'blocked', 'a cross-origin page read the token endpoint');
  } finally {
    await cross.close();
  }
}, { soft: true });

step('both live panels connect with a token from the session token endpoint', async () => {
  for (const u of users) {
    await u.page.waitForSelector('[data-testid=live-status][data-state=connected]', { timeout: 15_000 }).catch(async (err) => {
      const status = await u.page.textContent('[data-testid=live-status]').catch(() => '?');
      const error = await u.page.textContent('[data-testid=live-error]').catch(() => '');
      throw new Error(`${u.email}: the live panel says "${status}" ${error ? `(error: ${error})` : ''}; sockets ${JSON.stringify(u.sockets)}; ${err.message}`);
    });
    assert.ok(u.tokenCalls.length >= 1, 'the panel asked the token endpoint');
    const call = u.tokenCalls.at(-1);
    while (call.header === undefined) await u.page.waitForTimeout(20);
    assert.equal(call.status, 200);
    assert.equal(call.header, '1', 'the panel sends X-Cognate-Token: 1');
    assert.match(call.cacheControl ?? '', /no-store/);
    const ws = u.sockets.at(-1);
    assert.ok(ws, 'a WebSocket was opened');
    assert.equal(new URL(ws.url).pathname, '/event/realtime');
    // The socket's authorization is the token endpoint's access token, for this user.
    const sub = ws.sent.map((f) => JSON.parse(f)).find((f) => f.type === 'subscribe');
    assert.ok(sub, `no subscribe frame: ${JSON.stringify(ws.sent)}`);
    const claims = decodeJwt(sub.authorization.Authorization);
    assert.equal(claims.token_use, 'access');
    assert.equal(claims.sub, u.sub);
    assert.ok(ws.received.some((f) => JSON.parse(f).type === 'subscribe_success'), 'subscribe_success');
  }
});

step('a message from one user appears for the other and for the sender, with the sender\'s email', async () => {
  const text = `Hello from Ada ${tag}`;
  await send(ada.page, text);
  for (const u of users) {
    const m = await waitForMessage(u.page, text);
    assert.equal(m.from, ada.email, `${u.email} sees the sender`);
    assert.equal(m.mine, String(u === ada));
  }
  const reply = `Hi Ada, Grace here ${tag}`;
  await send(grace.page, reply);
  for (const u of users) {
    const m = await waitForMessage(u.page, reply);
    assert.equal(m.from, grace.email);
  }
  for (const u of users) {
    assert.deepEqual((await messages(u.page)).map((m) => m.text), [text, reply], `${u.email}: order and no duplicates`);
  }
  await shot(ada.page, 'dashboard-live-ada');
  await shot(grace.page, 'dashboard-live-grace');
  await shot(ada.page, 'live-panel', { locator: ada.page.locator('#live') });
});

step('message text is shown as text, never as HTML', async () => {
  const text = `<img src=x onerror="window.__pwned=1"> ${tag}`;
  await send(grace.page, text);
  for (const u of users) {
    await waitForMessage(u.page, text);
    assert.equal(await u.page.evaluate(() => window.__pwned ?? null), null);
    assert.equal(await u.page.locator('#live-messages img').count(), 0);
  }
}, { soft: true });
