// One Amplify app, in its own Node process, driven by the test over IPC.
//
// The harness forks this file with NODE_EXTRA_CA_CERTS=<data>/tls/ca.pem in
// its environment, so Node trusts Cognate's generated CA from its first line
// on: both Amplify's fetch (events.post, Cognito calls) and its WebSocket
// (events.connect) reach https:// and wss:// exactly as an app would, with no
// TLS option passed anywhere. Each process is one Amplify singleton, that is
// one signed-in user and one shared events socket, so a test with two users
// forks two of these.
//
// Protocol: the parent sends {id, op, args}; this process answers
// {id, ok: true, result} or {id, ok: false, error}, and pushes
// {push: 'data' | 'error' | 'complete', sub, ...} for subscription callbacks.
//
// WebSocket: Node 20 has none by default, so globalThis.WebSocket is the `ws`
// package's (EVENTS_WEBSOCKET=native uses Node's own instead; the harness then
// adds --experimental-websocket on Node < 22). Either way the class is
// wrapped to record each socket Amplify opens: the URL, the decoded
// `header-` auth subprotocol, the protocol the server chose, every non-data
// frame, and how it closed.

import { WebSocket as WsWebSocket } from 'ws';

const wsImpl = process.env.EVENTS_WEBSOCKET === 'native' ? globalThis.WebSocket : WsWebSocket;
if (typeof wsImpl !== 'function') {
  throw new Error('EVENTS_WEBSOCKET=native but this Node has no global WebSocket (need --experimental-websocket)');
}

/** Every socket Amplify opened, oldest first. */
const sockets = [];
const MAX_FRAMES = 300;

function decodeAuthProtocol(protocols) {
  const list = Array.isArray(protocols) ? protocols : [protocols];
  const header = list.find((p) => typeof p === 'string' && p.startsWith('header-'));
  if (!header) return undefined;
  try {
    return JSON.parse(Buffer.from(header.slice('header-'.length), 'base64url').toString('utf8'));
  } catch (err) {
    return { undecodable: String(err) };
  }
}

class RecordingWebSocket extends wsImpl {
  constructor(url, protocols) {
    super(url, protocols);
    const rec = {
      n: sockets.length,
      url: String(url),
      protocols: Array.isArray(protocols) ? protocols.map((p) => (p.startsWith('header-') ? 'header-…' : p)) : protocols,
      auth: decodeAuthProtocol(protocols),
      createdAt: Date.now(),
      openedAt: null,
      protocol: null,
      closedAt: null,
      closeCode: null,
      closeReason: null,
      errors: [],
      frames: [],
      dataFrames: 0,
    };
    sockets.push(rec);
    this.addEventListener('open', () => {
      rec.openedAt = Date.now();
      rec.protocol = this.protocol;
    });
    this.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') {
        rec.frames.push({ at: Date.now(), binary: true });
        return;
      }
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        frame = { unparsable: ev.data.slice(0, 500) };
      }
      if (frame?.type === 'data') {
        rec.dataFrames++;
        return;
      }
      if (rec.frames.length < MAX_FRAMES) rec.frames.push({ at: Date.now(), ...frame });
    });
    this.addEventListener('error', (ev) => {
      rec.errors.push({
        at: Date.now(),
        message: ev?.error?.message ?? ev?.message ?? String(ev?.type ?? 'error'),
        code: ev?.error?.code ?? ev?.error?.cause?.code,
      });
    });
    this.addEventListener('close', (ev) => {
      rec.closedAt = Date.now();
      rec.closeCode = ev?.code ?? null;
      rec.closeReason = ev?.reason ?? null;
    });
  }
}
globalThis.WebSocket = RecordingWebSocket;

// Amplify is imported only after the WebSocket is in place (it reads the
// global when it opens a socket, but being early costs nothing).
const { Amplify } = await import('aws-amplify');
const { events, CONNECTION_STATE_CHANGE } = await import('aws-amplify/data');
const { signIn, fetchAuthSession } = await import('aws-amplify/auth');
const { parseAmplifyConfig, Hub } = await import('aws-amplify/utils');

/** ConnectionStateChange values from Amplify's Hub, with times. */
const hubStates = [];
Hub.listen('api', ({ payload }) => {
  if (payload?.event === CONNECTION_STATE_CHANGE) {
    hubStates.push({ at: Date.now(), state: payload.data?.connectionState });
  }
});

const channels = new Map();
const subscriptions = new Map();
let nextHandle = 1;

function send(msg) {
  if (process.connected) process.send(msg);
}

/** A JSON-safe copy of whatever Amplify threw or passed to observer.error. */
function serializeError(err, depth = 0) {
  if (err === null || err === undefined) return { message: String(err) };
  if (typeof err !== 'object') return { message: String(err) };
  const out = {};
  if (err instanceof Error) {
    out.class = err.constructor?.name;
    out.name = err.name;
    out.message = err.message;
  }
  // `cause` is not enumerable on errors made with new Error(msg, {cause}).
  if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
  if (err.code !== undefined) out.code = err.code;
  for (const key of Object.keys(err)) {
    const v = err[key];
    if (v === undefined || typeof v === 'function') continue;
    if (key === 'underlyingError' || key === 'cause' || key === 'originalError') {
      out[key] = depth < 3 ? serializeError(v, depth + 1) : String(v);
      continue;
    }
    if (key === '_response' || key === 'response') continue;
    try {
      out[key] = JSON.parse(JSON.stringify(v));
    } catch {
      out[key] = String(v);
    }
  }
  // RestApiError keeps the HTTP response behind a getter.
  const res = err.response;
  if (res && typeof res === 'object') {
    out.response = { statusCode: res.statusCode, headers: res.headers, body: res.body };
  }
  if (out.message === undefined && typeof err.message === 'string') out.message = err.message;
  return out;
}

function tokenInfo(tokens) {
  if (!tokens?.accessToken) return null;
  return {
    accessToken: tokens.accessToken.toString(),
    idToken: tokens.idToken?.toString(),
    sub: tokens.accessToken.payload.sub,
    username: tokens.accessToken.payload.username,
    groups: tokens.accessToken.payload['cognito:groups'] ?? [],
    exp: tokens.accessToken.payload.exp,
    iat: tokens.accessToken.payload.iat,
  };
}

function channelOf(handle) {
  const ch = channels.get(handle);
  if (!ch) throw new Error(`no channel handle ${handle}`);
  return ch;
}

const READY_TIMEOUT_MS = 25_000;

const ops = {
  /**
   * Configures Amplify from the server's amplify_outputs.json, the way an app
   * does (parseAmplifyConfig reads custom.events), plus the pool endpoint
   * (the outputs file has no key for it). Returns the parsed API.Events.
   */
  configure({ outputs, userPoolEndpoint }) {
    const config = parseAmplifyConfig(outputs);
    if (config.Auth?.Cognito) {
      config.Auth.Cognito.userPoolEndpoint = userPoolEndpoint;
      if (config.Auth.Cognito.loginWith?.oauth) {
        const { oauth: _oauth, ...rest } = config.Auth.Cognito.loginWith;
        config.Auth.Cognito.loginWith = rest;
      }
    }
    Amplify.configure(config);
    return { events: Amplify.getConfig().API?.Events ?? null };
  },

  async signIn({ username, password }) {
    const result = await signIn({ username, password });
    if (!result.isSignedIn) {
      throw Object.assign(new Error(`signIn did not finish: ${JSON.stringify(result.nextStep)}`), { nextStep: result.nextStep });
    }
    const session = await fetchAuthSession();
    return tokenInfo(session.tokens);
  },

  async connect({ channel, options }) {
    const ch = await events.connect(channel, options);
    const handle = nextHandle++;
    channels.set(handle, ch);
    return { handle };
  },

  /**
   * channel.subscribe(observer, options); waits for `ready` (Amplify resolves
   * it on subscribe_success, rejects it on subscribe_error or after its own
   * 15 s ack timeout). Callbacks are pushed to the parent as they happen.
   */
  async subscribe({ handle, options }) {
    const ch = channelOf(handle);
    const sub = nextHandle++;
    const subscription = ch.subscribe({
      next: (data) => send({ push: 'data', sub, at: Date.now(), data }),
      error: (err) => send({ push: 'error', sub, at: Date.now(), error: serializeError(err) }),
      complete: () => send({ push: 'complete', sub, at: Date.now() }),
    }, options);
    subscriptions.set(sub, subscription);
    let timer;
    try {
      const ready = await Promise.race([
        subscription.ready,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`subscription.ready did not settle within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
        }),
      ]);
      return { sub, subscriptionId: ready?.subscriptionId };
    } catch (err) {
      throw Object.assign(err instanceof Error ? err : new Error(String(err)), { sub });
    } finally {
      clearTimeout(timer);
    }
  },

  unsubscribe({ sub }) {
    const s = subscriptions.get(sub);
    if (!s) throw new Error(`no subscription ${sub}`);
    s.unsubscribe();
    subscriptions.delete(sub);
    return null;
  },

  async publish({ handle, events: evs, options }) {
    await channelOf(handle).publish(evs, options);
    return null;
  },

  async closeChannel({ handle }) {
    await channelOf(handle).close();
    channels.delete(handle);
    return null;
  },

  /** events.post: undefined when every event was accepted, else the failed entries. */
  async post({ channel, events: evs, options }) {
    const failed = await events.post(channel, evs, options);
    return { failed: failed ?? null };
  },

  /** Posts one event of exactly `bytes` bytes once serialized ({"p":"xxx…"}). */
  async postSized({ channel, sizes, options }) {
    const evs = sizes.map((n, i) => ({ i, p: 'x'.repeat(Math.max(0, n - JSON.stringify({ i, p: '' }).length)) }));
    const failed = await events.post(channel, evs, options);
    return { failed: failed ?? null, lengths: evs.map((e) => JSON.stringify(e).length) };
  },

  async publishSized({ handle, sizes, options }) {
    const evs = sizes.map((n, i) => ({ i, p: 'x'.repeat(Math.max(0, n - JSON.stringify({ i, p: '' }).length)) }));
    await channelOf(handle).publish(evs, options);
    return { lengths: evs.map((e) => JSON.stringify(e).length) };
  },

  async closeAll() {
    await events.closeAll();
    return null;
  },

  /** A plain fetch, to show whether this process trusts the server's certificate. */
  async fetchStatus({ url }) {
    const res = await fetch(url);
    return { status: res.status };
  },

  log() {
    return { sockets, hub: hubStates };
  },
};

process.on('message', async (msg) => {
  const { id, op, args } = msg ?? {};
  const fn = ops[op];
  if (!fn) {
    send({ id, ok: false, error: { message: `unknown op ${op}` } });
    return;
  }
  try {
    const result = await fn(args ?? {});
    send({ id, ok: true, result: result ?? null });
  } catch (err) {
    send({ id, ok: false, error: serializeError(err) });
  }
});

// Amplify leaves rejected promises around when a socket dies under it;
// report them instead of dying, so the test sees the real assertion.
process.on('unhandledRejection', (reason) => {
  send({ push: 'unhandled', at: Date.now(), error: serializeError(reason) });
});

send({ push: 'hello', pid: process.pid, websocket: process.env.EVENTS_WEBSOCKET === 'native' ? 'native' : 'ws' });
