// Plain-HTTP helpers of the multinode suite: a recorder of the Cognito
// JSON calls Amplify makes (which node each went to), JWTs, and a
// cookie-keeping "browser" that drives the managed login's forms and the
// OAuth code flow with PKCE against one node at a time.

import { createHash, randomBytes } from 'node:crypto';

import { clip } from './cluster.mjs';

// ---------------------------------------------------------------------------
// Cognito calls through fetch
// ---------------------------------------------------------------------------

/** { op, url, origin, status, errorType, response } of every X-Amz-Target call made with fetch. */
export const calls = [];

const realFetch = globalThis.fetch;

function targetOf(input, init) {
  const h = init?.headers;
  if (h && typeof h.get === 'function') return h.get('x-amz-target');
  if (h) {
    for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === 'x-amz-target') return v;
  }
  return input instanceof Request ? input.headers.get('x-amz-target') : null;
}

globalThis.fetch = async function recordingFetch(input, init = {}) {
  const target = targetOf(input, init);
  if (!target) return realFetch(input, init);
  const url = typeof input === 'string' ? input : input?.url ?? String(input);
  const entry = { op: target.split('.').pop(), url, origin: new URL(url).origin };
  calls.push(entry);
  const res = await realFetch(input, init).catch((err) => {
    entry.status = 0;
    entry.response = err?.cause?.message ?? err.message;
    throw err;
  });
  entry.status = res.status;
  const text = await res.clone().text();
  try {
    entry.response = JSON.parse(text);
  } catch {
    entry.response = text;
  }
  if (res.status >= 300) entry.errorType = String(entry.response?.__type ?? '').split('#').pop();
  if (process.env.DEBUG === '1') process.stderr.write(`[fetch] ${entry.op} ${url} -> ${res.status} ${clip(text, 300)}\n`);
  return res;
};

export const mark = () => calls.length;

/** Calls since a mark, optionally only those of op. */
export function callsSince(m, op) {
  return calls.slice(m).filter((c) => !op || c.op === op);
}

export function formatCalls(list) {
  return list.map((c) => `${c.op} ${c.url} -> ${c.status} ${clip(c.response, 400)}`).join('\n') || '(no Cognito calls)';
}

// ---------------------------------------------------------------------------
// JWT
// ---------------------------------------------------------------------------

export function claims(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) throw new Error(`not a JWT: ${clip(token, 80)}`);
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

// ---------------------------------------------------------------------------
// a browser for the managed login
// ---------------------------------------------------------------------------

function unescapeHTML(s) {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e) => {
    const k = e.toLowerCase();
    if (k.startsWith('#x')) return String.fromCodePoint(Number.parseInt(k.slice(2), 16));
    if (k.startsWith('#')) return String.fromCodePoint(Number(k.slice(1)));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[k];
  });
}

function attributes(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-\w:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const name = m[1].toLowerCase();
    if (!(name in out)) out[name] = unescapeHTML(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/**
 * The form holding the submit button with id buttonId, as a browser would
 * post it: { action (absolute), fields (URLSearchParams) }.
 */
export function findForm(html, pageURL, buttonId) {
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const inner = m[2];
    const button = [...inner.matchAll(/<button\b([^>]*)>/gi)].map((b) => attributes(b[1])).find((a) => a.id === buttonId);
    if (!button) continue;
    const fields = new URLSearchParams();
    for (const im of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(im[1]);
      if (!a.name || ['submit', 'button', 'image', 'reset', 'file'].includes((a.type ?? '').toLowerCase())) continue;
      fields.append(a.name, a.value ?? '');
    }
    if (button.name) fields.set(button.name, button.value ?? '');
    return { action: new URL(attributes(m[1]).action || pageURL, pageURL).toString(), fields };
  }
  throw new Error(`no form with a #${buttonId} button at ${pageURL}: ${clip(html, 1500)}`);
}

/**
 * A user agent with a cookie jar (name → value; every node serves one
 * site behind the public URL, so one jar serves them all). It follows
 * redirects itself, sends every request to base (a node), and stops at a
 * redirect to another site (the relying party's callback).
 */
export class Browser {
  /** sameSite: more origins that are the cluster's (its public URL). */
  constructor({ sameSite = [] } = {}) {
    this.sameSite = sameSite.map((u) => new URL(u).origin);
    this.jar = new Map();
    this.hops = [];
  }

  cookieHeader() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  keepCookies(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a)) || value === '';
      if (expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  /**
   * method url at node base (an absolute url is sent to base too, by its
   * path). Follows redirects within the cluster (to base); returns { status, url, body, callback } where
   * callback is the URL of a redirect that leaves the cluster.
   */
  async request(base, method, url, { form, origin } = {}) {
    const cluster = new Set([new URL(base).origin, ...this.sameSite]);
    let target = new URL(url, base);
    for (let i = 0; i < 10; i++) {
      // The first request goes to base whatever its origin; redirects only
      // while they stay on the cluster.
      if (i > 0 && !cluster.has(target.origin)) return { status: 302, url: target.toString(), callback: target, hops: this.hops };
      const at = new URL(target.pathname + target.search, base);
      const headers = { cookie: this.cookieHeader() };
      let body;
      if (form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers.origin = origin ?? new URL(base).origin;
        body = form.toString();
      }
      const res = await realFetch(at, { method, headers, body, redirect: 'manual' });
      this.keepCookies(res);
      this.hops.push(`${method} ${at} -> ${res.status}`);
      const loc = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && loc) {
        target = new URL(loc, at);
        method = 'GET';
        form = undefined;
        continue;
      }
      return { status: res.status, url: at.toString(), body: await res.text(), hops: this.hops };
    }
    throw new Error(`more than 10 redirects: ${this.hops.join(' | ')}`);
  }
}

/** A PKCE verifier and its S256 challenge. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** POST <node>/oauth2/token with form fields; returns { status, body }. */
export async function tokenRequest(node, fields) {
  const res = await realFetch(`${node.http}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}
