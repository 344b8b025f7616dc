// Shared harness for the events conformance suite.
//
// The test process (this module) starts `cognate serve` with HTTP and HTTPS
// on free loopback ports and a fresh data directory, waits until the server
// has written its CA (<data>/tls/ca.pem) and the events section of
// amplify_outputs.json, and then forks Amplify apps (amplify-client.mjs)
// with NODE_EXTRA_CA_CERTS=<that ca.pem> in their environment. Node reads
// NODE_EXTRA_CA_CERTS only when a process starts, and the CA only exists once
// the server has started, so the Amplify code cannot run in this process: it
// runs in children forked after the server is up, and this process drives
// them over IPC. One child is one Amplify singleton (one signed-in user, one
// events socket), which is also what multi-user tests need.
//
// Every *.test.mjs file runs in its own Node process (node --test), so every
// file gets its own server.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { scenarioSteps, startCognate, waitForTLS } from '../../lib/cognate.mjs';
import { clip, runningClients } from './clients.mjs';

export * from './clients.mjs';

export { sleep };

/** Polls fn until it returns a truthy value; throws naming describe() after timeoutMs. */
export { pollUntil as waitUntil } from '../../lib/cognate.mjs';

/** Satisfies Cognito's default password policy. */
export const PASSWORD = 'Correct-Horse-9';

export function randomHex(bytes = 4) {
  return randomBytes(bytes).toString('hex');
}

/** A channel no other test uses: /<namespace>/<tag>-<random>. */
export function uniqueChannel(tag, namespace = 'default') {
  return `/${namespace}/${tag}-${randomHex(4)}`;
}

export function decodeJwt(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) throw new Error(`not a JWT (${parts.length} segments)`);
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

// ---------------------------------------------------------------------------
// the server
// ---------------------------------------------------------------------------

function run(cmd, args, { timeout = 30_000 } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr, error: err });
    });
  });
}

let currentServer = null;

/**
 * Starts `cognate serve` with HTTP on one free port and HTTPS on another,
 * --public-url https://localhost:<tls port>, the demo app off, and:
 *   config: an object written to a --config file (e.g. {Events: {...}});
 *   args: extra flags (e.g. ['--token-lifetime', '20s']).
 * Returns { bin, http, https, httpPort, tlsPort, dataDir, caFile, outputs,
 * events (outputs.custom.events), adminCredentials, tail(n), logs(), stop() }.
 */
export async function startServer({ config, args: extra = [] } = {}) {
  const publicURL = ([, tlsPort]) => `https://localhost:${tlsPort}`;
  const cognate = await startCognate({
    name: 'events',
    ports: 2,
    config,
    args: (ports) => [
      '--tls-addr', `127.0.0.1:${ports[1]}`, '--public-url', publicURL(ports), '--demo-addr', 'off', ...extra,
    ],
  });
  try {
    const { caFile } = await waitForTLS(cognate, publicURL(cognate.ports));
    const outputs = await cognate.waitForJson('amplify_outputs.json', {
      accept: (o) => Boolean(o?.custom?.events?.url),
      what: (o) => `with custom.events (is the events API wired?): ${clip(o)}`,
    });
    const adminCredentials = await cognate.waitForJson('admin-credentials.json');
    const server = {
      bin: cognate.bin,
      http: cognate.http,
      https: publicURL(cognate.ports),
      httpPort: cognate.ports[0],
      tlsPort: cognate.ports[1],
      dataDir: cognate.dataDir,
      caFile,
      outputs,
      events: outputs.custom.events,
      adminCredentials,
      poolId: outputs.auth?.user_pool_id,
      tail: (n = 60) => cognate.tail(n),
      logs: () => cognate.describe(),
      stop: async () => {
        if (currentServer === server) currentServer = null;
        await cognate.stop();
      },
    };
    currentServer = server;
    return server;
  } catch (err) {
    await cognate.stop();
    throw err;
  }
}

/**
 * Runs `cognate admin --endpoint <http> --data <data> <task> ...` against the
 * server. Returns { stdout, stderr }; throws with both on a non-zero exit.
 */
export async function admin(server, task, ...taskArgs) {
  const args = ['admin', '--endpoint', server.http, '--data', server.dataDir, task, ...taskArgs];
  const r = await run(server.bin, args);
  if (r.code !== 0) {
    throw new Error(`cognate ${args.join(' ')} exited ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

/**
 * A confirmed user with a permanent password, made with the admin CLI
 * (create-user, then add-to-group --create for each group). Returns
 * { email, password }.
 */
export async function createUser(server, { tag = 'user', groups = [] } = {}) {
  const email = `${tag}-${randomHex(4)}@example.com`;
  await admin(server, 'create-user', '--email', email, '--password', PASSWORD);
  for (const g of groups) await admin(server, 'add-to-group', '--user', email, '--group', g, '--create');
  return { email, password: PASSWORD };
}

// ---------------------------------------------------------------------------
// node:test helpers
// ---------------------------------------------------------------------------

async function diagnose(t) {
  for (const c of runningClients()) {
    for (const line of (await c.diagnostics()).split('\n')) t.diagnostic(line);
  }
  if (currentServer) {
    for (const line of currentServer.tail(40).split('\n')) t.diagnostic(`[server] ${line}`);
  }
}

/**
 * A node:test test that, when it fails, attaches what every live Amplify app
 * saw on its sockets and the server's log tail as diagnostics. Apps started
 * during the test are stopped when it ends.
 */
export function check(name, fn, { timeout = 60_000 } = {}) {
  return test(name, { timeout }, async (t) => {
    const before = new Set(runningClients());
    try {
      await fn(t);
    } catch (err) {
      await diagnose(t);
      throw err;
    } finally {
      // Apps a test started end with it; those from before() hooks stay.
      await Promise.all(runningClients().filter((c) => !before.has(c)).map((c) => c.stop()));
    }
  });
}

/**
 * Steps that depend on each other: when one fails, the later ones are
 * skipped and name it, unless it was declared { soft: true }. A failing
 * step gets the same diagnostics as check().
 */
export function scenario() {
  return scenarioSteps({ diagnose });
}
