// The multinode suite's cluster: a fresh PostgreSQL database of this run,
// N `cognate serve` nodes on it (each with its own ports and --data
// directory, the same --storage, --broker and admin credentials), started
// at the same moment on the empty database, and a round-robin HTTP proxy in
// front of them whose URL is every node's --public-url, as a load
// balancer's would be.
//
// The machine's services (PostgreSQL 15 at 127.0.0.1:5432 with trust auth
// for the postgres role, NATS at 127.0.0.1:4222, Redis at 127.0.0.1:6379)
// are used as they are, each run isolated by its own database and its own
// broker namespace. When one is not reachable the suite's steps are skipped
// with a message, or the file fails under COGNATE_REQUIRE_SERVICES=1 (as
// the Go tests do).

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { cognateBinary, scenarioSteps, startCognate, waitForTLS } from '../../lib/cognate.mjs';

export const DEBUG = process.env.DEBUG === '1';

export const SERVICES = {
  PostgreSQL: { host: '127.0.0.1', port: 5432 },
  NATS: { host: '127.0.0.1', port: 4222 },
  Redis: { host: '127.0.0.1', port: 6379 },
};

export const BROKERS = {
  nats: `nats://${SERVICES.NATS.host}:${SERVICES.NATS.port}`,
  redis: `redis://${SERVICES.Redis.host}:${SERVICES.Redis.port}`,
};

/** psql's arguments for database db, as the postgres role. */
const psql = (db = 'postgres') => ['-h', SERVICES.PostgreSQL.host, '-p', String(SERVICES.PostgreSQL.port), '-U', 'postgres',
  '-d', db, '-v', 'ON_ERROR_STOP=1', '-X', '-q'];

/** Lower-case letters and digits, unique to this run. */
export function unique(bytes = 5) {
  return randomBytes(bytes).toString('hex');
}

export function clip(v, n = 1500) {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s;
}

function run(cmd, args, { timeout = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout }, (err, stdout, stderr) => {
      if (err) {
        err.message = `${cmd} ${args.join(' ')}: ${err.message}${stderr ? `\n${stderr}` : ''}`;
        reject(err);
      } else {
        resolve(stdout);
      }
    });
  });
}

function reachable({ host, port }, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (err) => {
      sock.destroy();
      resolve(err ? (err.code ?? err.message) : null);
    };
    sock.setTimeout(timeoutMs, () => done(new Error('timeout')));
    sock.once('connect', () => done(null));
    sock.once('error', done);
  });
}

/**
 * Why the named services cannot be used ('' when they all can): a TCP
 * connect to each, and for PostgreSQL a query through psql as postgres.
 */
async function missingServices(names) {
  const reasons = [];
  for (const name of names) {
    const addr = SERVICES[name];
    const err = await reachable(addr);
    if (err) {
      reasons.push(`no ${name} at ${addr.host}:${addr.port} (${err})`);
    } else if (name === 'PostgreSQL') {
      try {
        await run('psql', [...psql(), '-c', 'SELECT 1']);
      } catch (e) {
        reasons.push(`PostgreSQL at ${addr.host}:${addr.port} does not take psql -U postgres: ${e.message.split('\n')[0]}`);
      }
    }
  }
  return reasons.join('; ');
}

/**
 * Checks the services a test file needs (top-level await). Returns '' when
 * they are all there, else the reason its steps are skipped; under
 * COGNATE_REQUIRE_SERVICES=1 it throws instead, failing the file.
 */
export async function servicesFor(names) {
  const missing = await missingServices(names);
  if (!missing) return '';
  const msg = `${missing}; the multinode suite needs ${names.join(', ')} on this machine (.ci/run shows how to start them)`;
  if (process.env.COGNATE_REQUIRE_SERVICES === '1') {
    throw new Error(`required (COGNATE_REQUIRE_SERVICES=1): ${msg}`);
  }
  return msg;
}

/**
 * Dependent steps (see scenarioSteps) that are all skipped, with the
 * reason, when skipReason is not ''. When a step fails, diagnose(t, begun)
 * adds what helps, begun being what begin() returned before it ran.
 */
export function steps(skipReason, { begin = () => undefined, diagnose = async () => {} } = {}) {
  const step = scenarioSteps({ begin, diagnose: (t, _name, begun) => diagnose(t, begun) });
  return (name, fn, opts = {}) => (skipReason
    ? test(name, { skip: skipReason }, () => {})
    : step(name, fn, opts));
}

// ---------------------------------------------------------------------------
// the database
// ---------------------------------------------------------------------------

/**
 * Creates cognate_mn_<random> on the machine's PostgreSQL. Returns
 * { name, url, query(sql), drop() }; drop() removes it WITH (FORCE), so nodes that
 * are still connected do not keep it.
 */
export async function createDatabase() {
  const name = `cognate_mn_${unique(6)}`;
  await run('psql', [...psql(), '-c', `CREATE DATABASE ${name}`]);
  const { host, port } = SERVICES.PostgreSQL;
  return {
    name,
    url: `postgres://postgres@${host}:${port}/${name}?sslmode=disable`,
    drop: () => run('psql', [...psql(), '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]),
    /** The rows of sql in this database, each an array of column texts. */
    query: async (sql) => (await run('psql', [...psql(name), '-At', '-F', '\t', '-c', sql]))
      .split('\n').filter(Boolean).map((line) => line.split('\t')),
  };
}

// ---------------------------------------------------------------------------
// the round-robin proxy
// ---------------------------------------------------------------------------

/**
 * A load balancer of a few dozen lines: each request goes to the next of
 * targets (base URLs, replaceable while it runs), Host header and all.
 * log holds { n, method, path, op, node, status }, op being the Cognito
 * operation named by X-Amz-Target.
 */
export async function startProxy() {
  const proxy = { targets: [], log: [], next: 0 };
  const server = http.createServer((req, res) => {
    if (proxy.targets.length === 0) {
      res.writeHead(503).end('no targets');
      return;
    }
    const node = proxy.next % proxy.targets.length;
    proxy.next++;
    const target = new URL(proxy.targets[node]);
    const entry = {
      n: proxy.log.length, method: req.method, path: req.url, node,
      op: String(req.headers['x-amz-target'] ?? '').split('.').pop() || undefined,
    };
    proxy.log.push(entry);
    const up = http.request({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers,
    }, (upRes) => {
      entry.status = upRes.statusCode;
      res.writeHead(upRes.statusCode, upRes.rawHeaders);
      upRes.pipe(res);
    });
    up.on('error', (err) => {
      entry.status = 502;
      entry.error = err.message;
      if (!res.headersSent) res.writeHead(502);
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.mark = () => proxy.log.length;
  proxy.since = (m) => proxy.log.slice(m);
  proxy.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return proxy;
}

// ---------------------------------------------------------------------------
// the nodes
// ---------------------------------------------------------------------------

/** Admin credentials of one run (the access key id in AWS's shape). */
export function adminCredentials() {
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const id = `AKIA${[...randomBytes(16)].map((b) => alnum[b % 32]).join('')}`;
  return { accessKeyId: id, secretAccessKey: randomBytes(30).toString('base64url') };
}

/**
 * The cluster of one test file. Its database, proxy and credentials live
 * from create() to close(); its nodes can be stopped and started again
 * (on another broker) in between.
 */
export class Cluster {
  static async create({ name = 'mn', size = 3, tls = false, config } = {}) {
    const c = new Cluster(name, size, tls);
    c.config = config;
    // One binary for every node (a fresh build unless COGNATE_BIN says).
    c.binDir = await mkdtemp(path.join(os.tmpdir(), 'cognate-mn-bin-'));
    try {
      c.bin = await cognateBinary(c.binDir);
      c.db = await createDatabase();
      c.proxy = await startProxy();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  constructor(name, size, tls) {
    this.name = name;
    this.size = size;
    this.tls = tls;
    this.admin = adminCredentials();
    // Subjects and keys of this run: its own broker namespace.
    this.runId = `mn${unique(5)}`;
    this.nodes = [];
    this.starts = 0;
  }

  /** The --public-url of every node: the proxy's. */
  get publicURL() {
    return this.proxy.url;
  }

  /** The broker URL for kind ('nats' or 'redis') with this run's prefix. */
  brokerURL(kind) {
    return BROKERS[kind];
  }

  /**
   * Starts size nodes at the same moment on broker kind and waits for
   * each to be healthy and to have written amplify_outputs.json.
   */
  async start(kind) {
    if (this.nodes.length) throw new Error('the cluster is running already');
    this.broker = kind;
    this.starts++;
    const storage = this.db.url;
    const broker = this.brokerURL(kind);
    const started = await Promise.allSettled(Array.from({ length: this.size }, (_, i) => startCognate({
      name: `${this.name}-${this.starts}-n${i + 1}`,
      bin: this.bin,
      config: this.config,
      ports: this.tls ? 2 : 1,
      args: (ports) => [
        '--storage', storage,
        '--broker', broker,
        '--admin-access-key-id', this.admin.accessKeyId,
        '--admin-secret-access-key', this.admin.secretAccessKey,
        '--public-url', this.publicURL,
        '--tls-addr', this.tls ? `127.0.0.1:${ports[1]}` : 'off',
        '--demo-addr', 'off',
      ],
    })));
    const failed = started.filter((s) => s.status === 'rejected');
    if (failed.length) {
      await Promise.all(started.filter((s) => s.status === 'fulfilled').map((s) => s.value.stop()));
      throw new Error(`${failed.length} of ${this.size} nodes did not start:\n${failed.map((f) => f.reason.message).join('\n\n')}`);
    }
    const procs = started.map((s) => s.value);
    try {
      this.nodes = await Promise.all(procs.map((p, i) => this.describeNode(p, i)));
    } catch (err) {
      await Promise.all(procs.map((p) => p.stop()));
      throw err;
    }
    this.proxy.targets = this.nodes.map((n) => n.http);
    this.proxy.next = 0;
    if (this.tls) {
      // One file with every node's CA, for NODE_EXTRA_CA_CERTS.
      this.caFile = path.join(procs[0].workDir, 'cluster-ca.pem');
      await writeFile(this.caFile, this.nodes.map((n) => n.ca).join('\n'));
    }
    return this.nodes;
  }

  async describeNode(proc, i) {
    const node = {
      n: i + 1, proc, http: proc.http, dataDir: proc.dataDir, port: proc.ports[0],
      tail: (lines) => proc.tail(lines), logs: () => proc.describe(),
    };
    if (this.tls) {
      node.https = `https://localhost:${proc.ports[1]}`;
      node.ca = (await waitForTLS(proc, node.https)).ca;
    }
    node.outputs = await proc.waitForJson('amplify_outputs.json', {
      accept: (o) => Boolean(o?.auth?.user_pool_id && o?.auth?.user_pool_client_id && (!this.tls || o?.custom?.events?.url)),
      what: (o) => `with auth.user_pool_id, auth.user_pool_client_id${this.tls ? ' and custom.events.url' : ''}: ${clip(o)}`,
    });
    node.poolId = node.outputs.auth.user_pool_id;
    node.clientId = node.outputs.auth.user_pool_client_id;
    node.region = node.outputs.auth.aws_region ?? node.poolId.split('_')[0];
    node.events = node.outputs.custom?.events;
    return node;
  }

  /** Stops every node (the database and the proxy stay). */
  async stop() {
    const nodes = this.nodes;
    this.nodes = [];
    if (this.proxy) this.proxy.targets = [];
    await Promise.all(nodes.map((n) => n.proc.stop()));
  }

  /** Stops the nodes and the proxy and drops the database. */
  async close() {
    await this.stop();
    await this.proxy?.close();
    await this.db?.drop().catch((err) => process.stderr.write(`[cluster] ${err.message}\n`));
    if (this.binDir) await rm(this.binDir, { recursive: true, force: true });
  }

  /** Each node's last lines of output, for a failing step. */
  diagnose(t, lines = 25) {
    for (const n of this.nodes) {
      for (const line of n.tail(lines).split('\n')) t.diagnostic(`[node ${n.n}] ${line}`);
    }
  }
}
