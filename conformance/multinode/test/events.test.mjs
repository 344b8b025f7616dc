// Events across three nodes with the real Amplify Events client: apps
// subscribed on nodes 1, 2 and 3 get what node 1's app publishes, over
// HTTP (events.post) and over its WebSocket (channel.publish), in order and
// exactly once each (node 1 too: a local delivery and the broker's copy
// must not both arrive). First with NATS between the nodes, then with the same
// nodes restarted on Redis on the same database (which they must find
// bootstrapped: the same pool as before).
//
// Every app uses node 1's development API key: keys live in the shared
// database. The run's events live in a namespace of its own (a --config
// file), so runs sharing the machine's NATS and Redis never see each
// other's events.

import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import path from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { captureOutput } from '../../lib/cognate.mjs';
import { Cluster, clip, servicesFor, steps, unique } from './cluster.mjs';

const APP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'events-app.mjs');

// After the last expected event, how long an extra (duplicate) one may
// still arrive and be caught.
const SETTLE_MS = 500;

const skip = await servicesFor(['PostgreSQL', 'NATS', 'Redis']);

const NAMESPACE = `mn${unique(5)}`;
let cluster;
let apps = [];
const s = {};

/** Each round's own chain of steps: a failing NATS round leaves the Redis one to run. */
const roundSteps = () => steps(skip, {
  diagnose: async (t) => {
    for (const a of apps) for (const line of a.diagnostics().split('\n')) t.diagnostic(line);
    cluster?.diagnose(t);
  },
});

before(async () => {
  if (skip) return;
  cluster = await Cluster.create({ name: 'events', tls: true, config: { Events: { namespaces: [{ name: NAMESPACE }] } } });
});

after(async () => {
  await stopApps();
  await cluster?.close();
});

// ---------------------------------------------------------------------------
// Amplify apps in child processes
// ---------------------------------------------------------------------------

class App {
  static async start(name, node) {
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: cluster.caFile };
    const child = fork(APP, [], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const app = new App(name, node, child);
    apps.push(app);
    await app.hello;
    // Node 1's key, whichever node the app talks to.
    app.config = await app.call('configure', { outputs: node.outputs, apiKey: cluster.nodes[0].events.api_key });
    return app;
  }

  constructor(name, node, child) {
    this.name = name;
    this.node = node;
    this.child = child;
    this.pending = new Map();
    this.nextId = 1;
    this.received = new Map(); // sub -> [event payloads]
    this.errors = [];
    this.output = captureOutput(child, name, 50_000);
    this.exited = new Promise((resolve) => child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error(`${name} exited during ${p.op}\n${this.output()}`));
      resolve();
    }));
    this.hello = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start\n${this.output()}`)), 20_000);
      this.onHello = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    child.on('message', (msg) => this.onMessage(msg));
  }

  onMessage(msg) {
    if (msg.push === 'hello') return this.onHello();
    if (msg.push === 'data') {
      if (!this.received.has(msg.sub)) this.received.set(msg.sub, []);
      this.received.get(msg.sub).push(msg.data?.event);
      return undefined;
    }
    if (msg.push) {
      this.errors.push(msg);
      return undefined;
    }
    const p = this.pending.get(msg.id);
    if (!p) return undefined;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${this.name}.${p.op}: ${clip(msg.error)}`));
    return undefined;
  }

  call(op, args = {}, timeoutMs = 30_000) {
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

  events(sub) {
    return this.received.get(sub) ?? [];
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      if (!(await Promise.race([this.exited.then(() => true), sleep(5000, false, { ref: false })]))) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
  }

  diagnostics() {
    return [`--- app ${this.name} (node ${this.node.n}) ---`,
      `received ${clip(Object.fromEntries(this.received))}`,
      `errors ${clip(this.errors)}`,
      `output ${this.output().slice(-2000)}`].join('\n');
  }
}

async function stopApps() {
  const list = apps;
  apps = [];
  await Promise.all(list.map((a) => a.stop()));
}

/** Waits until every subscriber has at least n events, or timeoutMs. */
async function waitForAll(subscribers, n, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (subscribers.some(({ app, sub }) => app.events(sub).length < n)) {
    if (Date.now() > deadline) {
      const got = subscribers.map(({ app, sub }) => `${app.name}: ${clip(app.events(sub))}`).join('; ');
      throw new Error(`not every subscriber got ${n} events within ${timeoutMs} ms: ${got}`);
    }
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------
// one round per broker
// ---------------------------------------------------------------------------

function brokerRound(kind) {
  const step = roundSteps();

  step(`[${kind}] three nodes start at once on the shared database and agree on the pool`, async (t) => {
    // Whatever an earlier round left running.
    await stopApps();
    await cluster.stop();
    const t0 = Date.now();
    const nodes = await cluster.start(kind);
    t.diagnostic(`${kind}: 3 nodes healthy ${Date.now() - t0} ms after the concurrent start`);
    const seen = nodes.map((n) => `node ${n.n}: ${n.poolId}/${n.clientId}`).join('; ');
    for (const n of nodes) {
      assert.equal(n.poolId, (s.poolId ??= nodes[0].poolId), `user_pool_id: ${seen}`);
      assert.equal(n.clientId, (s.clientId ??= nodes[0].clientId), `user_pool_client_id: ${seen}`);
      assert.equal(n.events?.url, `${n.https}/event`, `node ${n.n}'s custom.events.url is its own HTTPS listener`);
      assert.ok(n.events?.api_key, `node ${n.n} has a development API key`);
    }
  });

  step(`[${kind}] Amplify apps subscribe on nodes 1, 2 and 3 with node 1's API key`, async () => {
    s.channel = `/${NAMESPACE}/${kind}-${unique(4)}`;
    const started = await Promise.all(cluster.nodes.map((n) => App.start(`${kind}-app-${n.n}`, n)));
    for (const app of started) {
      assert.equal(app.config.endpoint, `${app.node.https}/event`, `${app.name} talks to node ${app.node.n}`);
    }
    s.subscribers = await Promise.all(started.map(async (app) => {
      const handle = await app.call('connect', { channel: s.channel });
      return { app, handle, sub: await app.call('subscribe', { handle }) };
    }));
    // Node 1's app publishes too, on its subscribed channel's socket.
    s.pub = s.subscribers[0];
  });

  step(`[${kind}] what node 1 takes over HTTP and over its WebSocket reaches every node's subscriber in order, exactly once`, async (t) => {
    const t0 = Date.now();
    const sent = [];
    const batch = (...ns) => ns.map((n) => ({ kind, n, at: 'node1' }));
    const post = async (...ns) => {
      const list = batch(...ns);
      assert.equal(await s.pub.app.call('post', { channel: s.channel, events: list }), null, 'events.post accepted every event');
      sent.push(...list);
    };
    const publish = async (...ns) => {
      const list = batch(...ns);
      await s.pub.app.call('publish', { handle: s.pub.handle, events: list });
      sent.push(...list);
    };
    await post(1, 2);
    await publish(3);
    await post(4);
    await publish(5, 6, 7);
    await post(8);
    await waitForAll(s.subscribers, sent.length);
    const took = Date.now() - t0;
    await sleep(SETTLE_MS);
    for (const { app, sub } of s.subscribers) {
      assert.deepEqual(app.events(sub), sent, `${app.name} (node ${app.node.n}) got every event once, in order`);
      assert.deepEqual(app.errors, [], `${app.name} saw no errors`);
    }
    t.diagnostic(`${kind}: ${sent.length} events on 3 nodes' subscribers within ${took} ms`);
  });
}

brokerRound('nats');
brokerRound('redis');
