// One Amplify Events app in its own Node process, forked by events.test.mjs
// with NODE_EXTRA_CA_CERTS naming the cluster's CAs (each node generates
// its own under <data>/tls, and Amplify always speaks https:// and wss://
// to the events API). The parent sends {id, op, args} over IPC and gets
// {id, ok, result | error}; subscription callbacks arrive as
// {push: 'data' | 'error', sub, data | error}.

import { WebSocket } from 'ws';

// Node 20 has no WebSocket of its own; Amplify uses the global one.
globalThis.WebSocket = WebSocket;

const { Amplify } = await import('aws-amplify');
const { events } = await import('aws-amplify/data');
const { parseAmplifyConfig } = await import('aws-amplify/utils');

const channels = new Map();
let next = 1;

const send = (msg) => process.connected && process.send(msg);

function errorInfo(err) {
  if (!err || typeof err !== 'object') return { message: String(err) };
  const out = { name: err.name, message: err.message };
  if (err.cause) out.cause = errorInfo(err.cause);
  const res = err.response;
  if (res && typeof res === 'object') out.response = { statusCode: res.statusCode, body: res.body };
  return out;
}

const ops = {
  /** Amplify.configure from a node's amplify_outputs.json, with apiKey instead of its own key. */
  configure({ outputs, apiKey }) {
    const config = parseAmplifyConfig(outputs);
    delete config.Auth;
    config.API.Events.apiKey = apiKey;
    Amplify.configure(config);
    return Amplify.getConfig().API.Events;
  },

  async connect({ channel }) {
    const handle = next++;
    channels.set(handle, await events.connect(channel));
    return handle;
  },

  /** channel.subscribe, resolved once the server acknowledged it (ready). */
  async subscribe({ handle }) {
    const sub = next++;
    const s = channels.get(handle).subscribe({
      next: (data) => send({ push: 'data', sub, data }),
      error: (err) => send({ push: 'error', sub, error: errorInfo(err) }),
    });
    await s.ready;
    return sub;
  },

  /** channel.publish over the WebSocket. */
  async publish({ handle, events: list }) {
    return channels.get(handle).publish(list);
  },

  /** events.post (HTTP); null when every event was accepted. */
  async post({ channel, events: list }) {
    const r = await events.post(channel, list);
    return r?.failed?.length ? r.failed : null;
  },
};

process.on('message', async ({ id, op, args }) => {
  try {
    send({ id, ok: true, result: (await ops[op](args ?? {})) ?? null });
  } catch (err) {
    send({ id, ok: false, error: errorInfo(err) });
  }
});

process.on('unhandledRejection', (reason) => send({ push: 'unhandled', error: errorInfo(reason) }));

send({ push: 'hello' });
