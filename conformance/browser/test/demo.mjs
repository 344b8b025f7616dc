// Helpers shared by the demo-*.test.mjs files: the demo app that
// `cognate serve --demo-addr` runs (Go, built on the session package) with
// a browser page on it, its cookies as Chromium stores them, and the
// navigations a page makes.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  DESKTOP, decodeJwt, launchBrowser, newContext, startServer, visibleErrors, waitForPath,
} from './harness.mjs';

/** The prefix of every Amplify cookie of an app client. */
export const cookiePrefix = (clientId) => `CognitoIdentityServiceProvider.${clientId}.`;

// Cookies of the hosted pages (on https://localhost:<tls>): cookies are not
// scoped by port, so the demo's browser context holds them too.
const HOSTED_COOKIES = [/^cognate_session_/, /^cognate_csrf$/];

/**
 * The demo's HttpOnly-mode app client (created by the server on first
 * start): the client_id its sign-in route sends the browser to the pool
 * with. (Cognate has no ListUserPoolClients to look it up by name.)
 */
export async function demoClientId(server) {
  const res = await fetch(`${server.demo}/api/auth/sign-in`, { redirect: 'manual' });
  const location = res.headers.get('location') ?? '';
  const id = location ? new URL(location, server.demo).searchParams.get('client_id') : null;
  assert.ok(id, `GET /api/auth/sign-in -> ${res.status} ${location}`);
  return id;
}

/**
 * Starts the server with the demo app (startServer's options, demo: true),
 * looks up the demo's HttpOnly-mode client, and opens one desktop page in
 * a Chromium that trusts the server, with page errors copied to stderr and
 * its navigations recorded. Returns { server, demo (its origin), clientId,
 * browser, context, page, nav, close() }.
 */
export async function openDemo(options = {}) {
  const server = await startServer({ ...options, demo: true });
  let browser;
  const close = async () => {
    await browser?.close().catch(() => {});
    await server.stop();
  };
  try {
    const clientId = await demoClientId(server);
    browser = await launchBrowser(server.spki);
    const context = await newContext(browser, DESKTOP);
    const page = await context.newPage();
    page.on('pageerror', (err) => process.stderr.write(`[page error] ${err.message}\n`));
    return { server, demo: server.demo, clientId, browser, context, page, nav: recordNavigations(page), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The cookies of one app client, by the part of the name after the prefix. */
export function clientCookies(cookies, clientId) {
  const prefix = cookiePrefix(clientId);
  return cookies.filter((c) => c.name.startsWith(prefix)).map((c) => ({ ...c, key: c.name.slice(prefix.length) }));
}

/** The value of the client's cookie <prefix><key> at Path=/, or undefined. */
export function cookieValue(cookies, clientId, key) {
  return clientCookies(cookies, clientId).find((c) => c.key === key && c.path === '/')?.value;
}

/** The signed-in user's tokens in the client's cookies (undefined members when absent). */
export function tokensIn(cookies, clientId) {
  const user = cookieValue(cookies, clientId, 'LastAuthUser');
  const get = (k) => (user ? cookieValue(cookies, clientId, `${user}.${k}`) : undefined);
  return { user, access: get('accessToken'), id: get('idToken'), refresh: get('refreshToken') };
}

const DAY = 86_400;

/**
 * Checks every cookie of the demo's browser context against the
 * HttpOnly-mode cookie policy: token cookies HttpOnly, SameSite=Strict,
 * Path=/, host-only, not Secure on http://localhost, expiring in about a
 * year; no sign-in flow cookie left; nothing else but the demo's form CSRF
 * cookie and the hosted pages' own cookies. Returns the token cookies.
 */
export function checkServerModeCookies(cookies, clientId, { nowSec = Date.now() / 1000 } = {}) {
  const problems = [];
  const tokens = clientCookies(cookies, clientId);
  for (const c of tokens) {
    const where = `${c.name} (path ${c.path}, domain ${c.domain})`;
    if (!c.httpOnly) problems.push(`${where} is not HttpOnly`);
    if (c.sameSite !== 'Strict') problems.push(`${where} is SameSite=${c.sameSite}, want Strict`);
    if (c.path !== '/') problems.push(`${where} has Path=${c.path}, want /`);
    if (c.secure) problems.push(`${where} is Secure on an http:// origin`);
    // Playwright reports a host-only cookie as "localhost", a domain cookie as ".localhost".
    if (c.domain !== 'localhost') problems.push(`${where} is not host-only`);
    if (!(Math.abs(c.expires - (nowSec + 365 * DAY)) < DAY)) {
      problems.push(`${where} expires ${c.expires === -1 ? 'with the session' : new Date(c.expires * 1000).toISOString()}, want about a year from now`);
    }
  }
  const user = tokens.find((c) => c.key === 'LastAuthUser')?.value;
  if (!user) problems.push('no LastAuthUser cookie');
  for (const k of ['accessToken', 'idToken', 'refreshToken']) {
    if (user && !tokens.some((c) => c.key === `${user}.${k}`)) problems.push(`no ${k} cookie for ${user}`);
  }
  for (const c of cookies) {
    if (c.name.startsWith(cookiePrefix(clientId))) continue;
    if (/cognate\.flow\./.test(c.name)) {
      problems.push(`the sign-in flow cookie ${c.name} is still there after the callback`);
    } else if (c.name === 'demo_csrf') {
      if (!c.httpOnly || c.sameSite !== 'Strict') problems.push(`demo_csrf is not HttpOnly SameSite=Strict: ${JSON.stringify(c)}`);
    } else if (!HOSTED_COOKIES.some((re) => re.test(c.name))) {
      problems.push(`unexpected cookie ${c.name}: ${JSON.stringify({ ...c, value: `${c.value.slice(0, 12)}…` })}`);
    }
  }
  assert.deepEqual(problems, [], `cookie policy violations:\n  ${problems.join('\n  ')}`);
  return tokens;
}

/**
 * Records the main frame's navigation requests (every redirect hop is one)
 * with their response status. since(mark) lists those after mark().
 */
export function recordNavigations(page) {
  const list = [];
  page.on('request', (req) => {
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) list.push({ req, url: req.url(), status: null });
  });
  page.on('response', (res) => {
    const hit = list.find((n) => n.req === res.request());
    if (hit) hit.status = res.status();
  });
  return {
    mark: () => list.length,
    since: (mark) => list.slice(mark).map(({ url, status }) => ({ url, status })),
  };
}

/** Seconds until (and then past) a JWT's exp: sleeps until exp + margin. */
export async function waitPastExpiry(jwt, marginMs = 1500) {
  const exp = decodeJwt(jwt).exp * 1000;
  const wait = exp + marginMs - Date.now();
  if (wait > 0) await sleep(wait);
}

/** The sidebar's state: signed-in or signed-out, and the email it shows. */
export async function sidebar(page) {
  const state = await page.getAttribute('[data-testid=sidebar-account]', 'data-state');
  const email = state === 'signed-in' ? (await page.textContent('[data-testid=sidebar-email]')).trim() : null;
  const admin = await page.locator('[data-testid=admin-badge]').count() > 0;
  return { state, email, admin };
}

/** Clicks selector and waits for the navigation it starts to load. */
export async function submit(page, selector) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 15_000 }), page.click(selector)]);
}

/**
 * Signs in on the demo's own password page (server-side SRP): the page at
 * /sign-in?redirect=<path> must land on redirect.
 */
export async function passwordSignIn(page, demo, { email, password, redirect = '/dashboard' }) {
  await page.goto(`${demo}/sign-in?redirect=${encodeURIComponent(redirect)}`);
  await waitForPath(page, '/sign-in', { origin: demo });
  await page.fill('#username', email);
  await page.fill('#password', password);
  await submit(page, '#sign-in-submit');
  const errors = await visibleErrors(page).catch(() => []);
  await waitForPath(page, redirect, { origin: demo }).catch((err) => {
    throw new Error(`${err.message}${errors.length ? `; the page says ${JSON.stringify(errors)}` : ''}`);
  });
}
