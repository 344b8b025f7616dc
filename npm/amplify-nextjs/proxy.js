// Refreshing in proxy.ts (middleware), the one place before a render where
// cookies can be written: a Server Component that refreshes cannot store
// what it got (the adapter drops Next's error), so with refresh-token
// rotation the browser would keep a retired refresh token. The proxy
// refreshes a session whose access or id token expires within a margin
// (Amplify itself waits until 5 s before), sets the new cookies on the
// response and rewrites the request's Cookie header, so the render of the
// same request reads the new tokens and never refreshes.

import { NextResponse } from 'next/server.js';
import { fetchAuthSession } from 'aws-amplify/auth/server';

const KEY_PREFIX = 'CognitoIdentityServiceProvider';

/** Seconds before expiry at which the proxy refreshes by default. */
export const DEFAULT_MARGIN_SECONDS = 60;

/** refresh token → the refresh in flight with it (one per token at a time in this process) */
const inflight = new Map();

/**
 * @param {{ runWithAmplifyServerContext: Function, clientId: string, margin?: number }} options
 */
export function createRefreshInProxy({ runWithAmplifyServerContext, clientId, margin: defaultMargin = DEFAULT_MARGIN_SECONDS }) {
  /** The session's tokens, and the cookies the adapter set or deleted while reading them. */
  async function session(request, forceRefresh) {
    const response = NextResponse.next();
    const tokens = await runWithAmplifyServerContext({
      nextServerContext: { request, response },
      operation: async (ctx) => (await fetchAuthSession(ctx, { forceRefresh })).tokens,
    });
    return { tokens, cookies: response.cookies.getAll() };
  }

  return async function refreshInProxy(request, { margin = defaultMargin } = {}) {
    const stored = storedSession(request, clientId);
    const due = stored?.refreshToken && expiresWithin(stored, margin);
    let result;
    try {
      result = await (due ? once(stored.refreshToken, () => session(request, true)) : session(request, false));
    } catch (error) {
      // A transient failure (network, throttling): the cookies stay as they are.
      return { response: NextResponse.next(), tokens: undefined, error };
    }
    const { tokens, cookies } = result;
    if (cookies.length === 0) return { response: NextResponse.next(), tokens };
    const headers = new Headers(request.headers);
    headers.set('cookie', rewriteCookieHeader(request.headers.get('cookie') ?? '', cookies));
    const response = NextResponse.next({ request: { headers } });
    for (const c of cookies) response.cookies.set(c);
    response.headers.set('cache-control', 'private, no-store');
    return { response, tokens };
  };
}

function once(key, fn) {
  let p = inflight.get(key);
  if (!p) {
    p = fn().finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}

/** The tokens Amplify stored in the request's cookies for clientId, or undefined. */
function storedSession(request, clientId) {
  const byName = new Map(request.cookies.getAll().map((c) => [decodeName(c.name), c.value]));
  const base = `${KEY_PREFIX}.${clientId}`;
  const user = byName.get(`${base}.LastAuthUser`);
  if (!user) return undefined;
  const get = (k) => byName.get(`${base}.${user}.${k}`);
  return {
    accessToken: get('accessToken'),
    idToken: get('idToken'),
    refreshToken: get('refreshToken'),
    clockDrift: Number(get('clockDrift')) || 0,
  };
}

function decodeName(name) {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Whether the access or id token expires within margin seconds, by Amplify's clock (with its drift). */
function expiresWithin({ accessToken, idToken, clockDrift }, margin) {
  const limit = Date.now() + clockDrift + margin * 1000;
  return [accessToken, idToken].some((t) => t === undefined || expiry(t) * 1000 <= limit);
}

function expiry(jwt) {
  try {
    return Number(JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')).exp) || 0;
  } catch {
    return 0;
  }
}

const deleted = (c) => c.maxAge === 0 || (c.expires !== undefined && new Date(c.expires).getTime() <= Date.now());

/**
 * The Cookie header with cookies applied: pairs they set are replaced (value
 * encoded as the Set-Cookie header carries it), pairs they delete are
 * dropped, others are kept byte for byte.
 */
function rewriteCookieHeader(header, cookies) {
  const changed = new Set(cookies.map((c) => c.name));
  const kept = header.split(';').map((p) => p.trim()).filter((p) => p && !changed.has(p.split('=')[0]));
  const set = cookies.filter((c) => !deleted(c)).map((c) => `${c.name}=${encodeURIComponent(c.value)}`);
  return [...kept, ...set].join('; ');
}
