// The Amplify apps of the events suite, seen from the test process: each is
// a child Node process running amplify-client.mjs (one Amplify singleton),
// driven over IPC. Also the assertions for refusals as Amplify surfaces
// them. harness.mjs re-exports all of it; tests import from there.

import { fork } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { captureOutput } from '../../lib/cognate.mjs';

const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'amplify-client.mjs');

export function clip(v, n = 1500) {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s;
}

const liveClients = new Set();

/** The apps still running, oldest first. */
export function runningClients() {
  return [...liveClients];
}

// ---------------------------------------------------------------------------
// Amplify apps in child processes
// ---------------------------------------------------------------------------

/** An error thrown (or passed to observer.error) in a child, with its fields. */
export class RemoteError extends Error {
  constructor(op, remote) {
    super(`${op}: ${remote?.name ? `${remote.name}: ` : ''}${remote?.message ?? clip(remote)}`);
    this.name = 'RemoteError';
    this.remote = remote ?? {};
  }
}

/** The AppSync error body of a RestApiError from events.post, parsed, or undefined. */
export function restErrorBody(remote) {
  const body = remote?.response?.body;
  if (typeof body !== 'string') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Awaits p, which must reject; returns the RemoteError. */
export async function expectRejection(p, what) {
  let result;
  try {
    result = await p;
  } catch (err) {
    if (!(err instanceof RemoteError)) throw err;
    return err;
  }
  throw new Error(`${what} was expected to fail but succeeded with ${clip(result, 800)}`);
}

/**
 * One Amplify app in its own Node process. trustCA: false leaves
 * NODE_EXTRA_CA_CERTS unset (to show it is what makes TLS work).
 */
export class Client {
  static async start(server, { name = 'client', trustCA = true, configure = true } = {}) {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    if (trustCA) env.NODE_EXTRA_CA_CERTS = server.caFile;
    const execArgv = [];
    const major = Number(process.versions.node.split('.')[0]);
    if (process.env.EVENTS_WEBSOCKET === 'native' && major < 22) execArgv.push('--experimental-websocket');
    const child = fork(CLIENT, [], { env, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const c = new Client(name, child, server);
    liveClients.add(c);
    await c.hello;
    if (configure) await c.configure();
    return c;
  }

  constructor(name, child, server) {
    this.name = name;
    this.child = child;
    this.server = server;
    this.pending = new Map();
    this.nextId = 1;
    this.subs = new Map();
    this.unhandled = [];
    this.captured = captureOutput(child, name, 100_000);
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
      for (const { reject, op } of this.pending.values()) {
        reject(new Error(`${this.name}: client process exited (${code ?? signal}) during ${op}\n${this.output}`));
      }
      this.pending.clear();
      resolve({ code, signal });
    }));
    this.hello = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${name}: client process did not start\n${this.output}`)), 20_000);
      this.onHello = (msg) => {
        clearTimeout(t);
        resolve(msg);
      };
    });
    child.on('message', (msg) => this.onMessage(msg));
  }

  /** What the app has written to stdout and stderr lately. */
  get output() {
    return this.captured();
  }

  onMessage(msg) {
    if (msg.push === 'hello') {
      this.onHello(msg);
      return;
    }
    if (msg.push === 'unhandled') {
      this.unhandled.push(msg.error);
      return;
    }
    if (msg.push) {
      this.subscriptionFor(msg.sub).push(msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new RemoteError(`${this.name}.${p.op}`, msg.error));
  }

  subscriptionFor(sub) {
    let s = this.subs.get(sub);
    if (!s) {
      s = new Subscription(this, sub);
      this.subs.set(sub, s);
    }
    return s;
  }

  /** Sends op to the child; rejects with a RemoteError or after timeoutMs. */
  call(op, args = {}, { timeoutMs = 45_000 } = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}.${op} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, op });
      this.child.send({ id, op, args });
    });
  }

  async configure() {
    const r = await this.call('configure', { outputs: this.server.outputs, userPoolEndpoint: this.server.https });
    this.eventsConfig = r.events;
    return r.events;
  }

  /** Amplify Auth signIn (SRP); returns {accessToken, idToken, sub, username, groups, exp, iat}. */
  async signIn({ email, password }) {
    this.tokens = await this.call('signIn', { username: email, password });
    return this.tokens;
  }

  /** events.connect(channel, options); returns a Channel. */
  async connect(channel, options) {
    const { handle } = await this.call('connect', { channel, options });
    return new Channel(this, handle, channel);
  }

  /** events.post; resolves to null when all were accepted, else the failed entries. */
  async post(channel, events, options) {
    const r = await this.call('post', { channel, events, options });
    return r.failed;
  }

  /** events.post of events whose JSON is exactly sizes[i] bytes long. */
  postSized(channel, sizes, options) {
    return this.call('postSized', { channel, sizes, options });
  }

  closeAll() {
    return this.call('closeAll');
  }

  fetchStatus(url) {
    return this.call('fetchStatus', { url });
  }

  /** {sockets, hub}: every WebSocket Amplify opened, and the Hub connection states. */
  log() {
    return this.call('log');
  }

  async stop() {
    liveClients.delete(this);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const done = await Promise.race([this.exited, sleep(5000, null, { ref: false })]);
      if (!done) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
  }

  /** Text for a failing test: the sockets this app opened and its output. */
  async diagnostics() {
    const lines = [`--- client ${this.name} ---`];
    try {
      const { sockets, hub } = await this.call('log', {}, { timeoutMs: 3000 });
      for (const s of sockets) {
        lines.push(`socket #${s.n} ${s.url} offered ${clip(s.protocols)} auth=${clip(s.auth, 300)} chose=${s.protocol} ` +
          `opened=${s.openedAt} closed=${s.closedAt} code=${s.closeCode} reason=${clip(s.closeReason)} data=${s.dataFrames} ` +
          `errors=${clip(s.errors)}`);
        for (const f of s.frames.slice(-15)) lines.push(`  frame ${clip(f, 400)}`);
      }
      lines.push(`hub: ${hub.map((h) => h.state).join(' → ')}`);
    } catch (err) {
      lines.push(`(no log: ${err.message})`);
    }
    if (this.unhandled.length) lines.push(`unhandled rejections: ${clip(this.unhandled)}`);
    if (this.output.trim()) lines.push(`output: ${this.output.slice(-3000)}`);
    return lines.join('\n');
  }
}

/** A channel returned by events.connect in a child. */
export class Channel {
  constructor(client, handle, name) {
    this.client = client;
    this.handle = handle;
    this.name = name;
  }

  /**
   * channel.subscribe(observer, options), waiting for `ready`. Resolves to a
   * Subscription; rejects with a RemoteError (whose remote.sub names the
   * Subscription that got observer.error) when Amplify rejects `ready`.
   */
  async subscribe(options) {
    try {
      const { sub, subscriptionId } = await this.client.call('subscribe', { handle: this.handle, options });
      const s = this.client.subscriptionFor(sub);
      s.subscriptionId = subscriptionId;
      s.channel = this.name;
      return s;
    } catch (err) {
      if (err instanceof RemoteError && err.remote.sub !== undefined) {
        err.subscription = this.client.subscriptionFor(err.remote.sub);
      }
      throw err;
    }
  }

  publish(events, options) {
    return this.client.call('publish', { handle: this.handle, events, options });
  }

  publishSized(sizes, options) {
    return this.client.call('publishSized', { handle: this.handle, sizes, options });
  }

  close() {
    return this.client.call('closeChannel', { handle: this.handle });
  }

  toJSON() {
    return { client: this.client.name, channel: this.name };
  }
}

/** What one observer in a child received. */
export class Subscription {
  constructor(client, sub) {
    this.client = client;
    this.sub = sub;
    this.received = []; // {at, data: {id, type, event}}
    this.errors = []; // {at, error}
    this.completed = false;
    this.waiters = new Set();
  }

  push(msg) {
    if (msg.push === 'data') this.received.push({ at: msg.at, data: msg.data });
    else if (msg.push === 'error') this.errors.push({ at: msg.at, error: msg.error });
    else if (msg.push === 'complete') this.completed = true;
    for (const w of this.waiters) w();
  }

  /** The event payloads received so far. */
  get events() {
    return this.received.map((r) => r.data.event);
  }

  async waitFor(pred, { timeoutMs = 10_000, what = 'a condition' } = {}) {
    if (pred(this)) return;
    await new Promise((resolve, reject) => {
      const check = () => {
        if (pred(this)) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.client.name} subscription ${this.channel ?? ''}: timed out after ${timeoutMs} ms waiting for ${what}; ` +
          `received ${clip(this.events, 800)}; errors ${clip(this.errors, 800)}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Waits until at least n events arrived; returns the first n payloads. */
  async take(n, opts = {}) {
    await this.waitFor((s) => s.received.length >= n, { what: `${n} event(s)`, ...opts });
    return this.events.slice(0, n);
  }

  /** Waits for an event matching pred; returns its payload. */
  async waitForEvent(pred, opts = {}) {
    await this.waitFor((s) => s.events.some(pred), { what: 'a matching event', ...opts });
    return this.events.find(pred);
  }

  /** Waits for observer.error; returns what it was given. */
  async waitForError(opts = {}) {
    await this.waitFor((s) => s.errors.length > 0, { what: 'observer.error', ...opts });
    return this.errors[0].error;
  }

  unsubscribe() {
    return this.client.call('unsubscribe', { sub: this.sub });
  }

  toJSON() {
    return { client: this.client.name, channel: this.channel, subscriptionId: this.subscriptionId, events: this.events };
  }
}

/** Stops every child still running (call from `after`). */
export async function stopClients() {
  await Promise.all([...liveClients].map((c) => c.stop()));
}

// ---------------------------------------------------------------------------
// refusals, as Amplify surfaces them
// ---------------------------------------------------------------------------

const UNAUTHORIZED_STATUSES = [401, 403];

/**
 * events.post was refused by the server: Amplify threw a RestApiError whose
 * response has the given HTTP status (401 or 403 for UnauthorizedException)
 * and an AppSync body {errors:[{errorType}]}.
 */
export function assertPostRefused(err, errorType, what = 'events.post') {
  const res = err?.remote?.response;
  if (!res) throw new Error(`${what}: expected a RestApiError with a response, got ${clip(err?.remote ?? err)}`);
  const statuses = errorType === 'UnauthorizedException' ? UNAUTHORIZED_STATUSES : [400];
  if (!statuses.includes(res.statusCode)) {
    throw new Error(`${what}: HTTP status ${res.statusCode}, want ${statuses.join(' or ')}; body ${clip(res.body)}`);
  }
  const body = restErrorBody(err.remote);
  const types = (body?.errors ?? []).map((e) => e?.errorType);
  if (!types.includes(errorType)) {
    throw new Error(`${what}: response body errors ${clip(body?.errors ?? res.body)}, want errorType ${errorType}`);
  }
}

/** channel.publish was refused with a publish_error of this type ("Publish errors: <types>"). */
export function assertPublishRefused(err, errorType, what = 'channel.publish') {
  const msg = String(err?.remote?.message ?? '');
  if (!/^Publish errors: /.test(msg) || !msg.slice('Publish errors: '.length).split(', ').includes(errorType)) {
    throw new Error(`${what}: rejected with ${clip(err?.remote ?? err)}, want "Publish errors: ${errorType}"`);
  }
}

/**
 * channel.subscribe was refused with a subscribe_error of this type: the
 * `ready` promise rejected with it, and observer.error got it too.
 */
export async function assertSubscribeRefused(err, errorType, what = 'channel.subscribe') {
  const msg = String(err?.remote?.message ?? '');
  if (!msg.includes(errorType)) {
    throw new Error(`${what}: ready rejected with ${clip(err?.remote ?? err)}, want a subscribe_error of type ${errorType}`);
  }
  if (!err.subscription) throw new Error(`${what}: no subscription handle on the rejection`);
  const observed = await err.subscription.waitForError({ timeoutMs: 5000 });
  if (!JSON.stringify(observed).includes(errorType)) {
    throw new Error(`${what}: observer.error got ${clip(observed)}, want ${errorType} in it`);
  }
}
