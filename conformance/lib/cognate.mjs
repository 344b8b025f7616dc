// Shared by the Node conformance suites (conformance/amplify,
// conformance/browser, conformance/events, conformance/multinode): finding or building the cognate
// binary, picking free loopback ports, running `cognate serve` from a
// temporary work directory until it is healthy and then stopping it, and
// node:test steps that depend on each other. Node
// built-ins only, so each suite imports it by relative path without a
// package of its own.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

// The Go module root: conformance/lib/../.. unless COGNATE_REPO says.
const REPO_ROOT = process.env.COGNATE_REPO
  ? path.resolve(process.env.COGNATE_REPO)
  : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const BUILD_TIMEOUT_MS = Number(process.env.COGNATE_BUILD_TIMEOUT_MS ?? 600_000);

/** How long a server may take to become ready (COGNATE_STARTUP_TIMEOUT_MS). */
export const STARTUP_TIMEOUT_MS = Number(process.env.COGNATE_STARTUP_TIMEOUT_MS ?? 30_000);

const DEBUG = process.env.DEBUG === '1';

// A stopped server gets this long after SIGTERM before SIGKILL.
const STOP_GRACE_MS = 10_000;

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** n distinct free ports, none of them in avoid. */
export async function freePorts(n, avoid = []) {
  const ports = [];
  while (ports.length < n) {
    const p = await freePort();
    if (!avoid.includes(p) && !ports.includes(p)) ports.push(p);
  }
  return ports;
}

function run(cmd, args, options) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, ...options }, (err, stdout, stderr) => {
      if (err) {
        // err.message already holds the command and its stderr.
        err.message = `${err.message}${stdout ? `\n${stdout}` : ''}`;
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/** Path of a cognate binary: COGNATE_BIN, else a fresh `go build` into dir. */
export async function cognateBinary(dir) {
  if (process.env.COGNATE_BIN) {
    const bin = path.resolve(process.env.COGNATE_BIN);
    if (!existsSync(bin)) throw new Error(`COGNATE_BIN=${bin} does not exist`);
    return bin;
  }
  if (!existsSync(path.join(REPO_ROOT, 'cmd', 'cognate'))) {
    throw new Error(`${REPO_ROOT}/cmd/cognate not found: set COGNATE_REPO to the module root or COGNATE_BIN to a binary`);
  }
  const bin = path.join(dir, 'cognate');
  await run('go', ['build', '-o', bin, './cmd/cognate'], { cwd: REPO_ROOT, timeout: BUILD_TIMEOUT_MS });
  return bin;
}

/** Polls fn until it returns a truthy value, and returns it; throws naming describe() after timeoutMs. */
export async function pollUntil(fn, { timeoutMs = 10_000, interval = 100, describe = () => 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`);
    await sleep(interval);
  }
}

/**
 * Steps of one scenario that depend on each other, as node:test tests: when
 * a step fails, the later ones are skipped and name it, unless the failing
 * step was declared { soft: true } (it checks something later steps do not
 * need). When a step fails, diagnose(t, name, begun) attaches what helps,
 * where begun is what begin() returned before the step ran.
 */
export function scenarioSteps({ timeout: defaultTimeout = 60_000, begin = () => undefined, diagnose = async () => {} } = {}) {
  let brokenBy = null;
  return function step(name, fn, { soft = false, timeout = defaultTimeout } = {}) {
    return test(name, { timeout }, async (t) => {
      if (brokenBy) {
        t.skip(`not run: earlier step failed: ${brokenBy}`);
        return;
      }
      const begun = begin();
      try {
        await fn(t);
      } catch (err) {
        if (!soft) brokenBy = name;
        await diagnose(t, name, begun);
        throw err;
      }
    });
  };
}

/**
 * Keeps the last limit characters a child process writes to stdout and
 * stderr (interleaved), echoing them to stderr as [label] lines under
 * DEBUG=1. Returns a function that reads what is kept.
 */
export function captureOutput(child, label, limit = 300_000) {
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-limit);
    if (DEBUG) process.stderr.write(`[${label}] ${chunk}`);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return () => output;
}

/**
 * A `cognate serve` process run from a fresh work directory
 * (<tmp>/cognate-<name>-*, holding the data directory and the --config
 * file). Start one with startCognate.
 */
class Cognate {
  constructor({ bin, argv, env, ports, workDir, dataDir }) {
    this.bin = bin;
    this.argv = argv;
    this.env = env;
    this.ports = ports;
    this.workDir = workDir;
    this.dataDir = dataDir;
    this.http = `http://127.0.0.1:${ports[0]}`;
    this.deadline = Date.now() + STARTUP_TIMEOUT_MS;
    this.proc = null;
    this.output = () => '';
    this.exited = Promise.resolve();
    this.killOnExit = () => this.proc?.kill('SIGKILL');
  }

  spawn() {
    const env = this.env ? { ...process.env, ...this.env } : process.env;
    this.proc = spawn(this.bin, this.argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.output = captureOutput(this.proc, 'server');
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    process.on('exit', this.killOnExit);
  }

  running() {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The command line, the exit status and the output kept, for failure messages. */
  describe() {
    const p = this.proc;
    return `command: ${this.bin} ${this.argv.join(' ')}\n` +
      `exit: ${p?.exitCode ?? p?.signalCode ?? (p ? 'running' : 'not started')}\n--- server output ---\n${this.output()}`;
  }

  /** The last n lines of the server's output. */
  tail(n = 40) {
    return this.output().split('\n').slice(-n).join('\n');
  }

  /**
   * Ends the server (SIGTERM, SIGKILL after 10 s) and removes the work
   * directory unless COGNATE_KEEP_DATA is set.
   */
  async stop() {
    process.off('exit', this.killOnExit);
    if (this.running()) {
      this.proc.kill('SIGTERM');
      if (!(await Promise.race([this.exited, sleep(STOP_GRACE_MS, null, { ref: false })]))) {
        this.proc.kill('SIGKILL');
        await this.exited;
      }
    }
    if (!process.env.COGNATE_KEEP_DATA) await rm(this.workDir, { recursive: true, force: true });
    else process.stderr.write(`[harness] kept server data in ${this.workDir}\n`);
  }

  /**
   * Polls fn until it returns a truthy value, and returns it, as long as the
   * server runs and until the startup deadline (or timeoutMs from now).
   * what(), which may name the last thing fn saw, says what was awaited.
   */
  async waitFor(fn, { what, timeoutMs, interval = 150 }) {
    const deadline = timeoutMs === undefined ? this.deadline : Date.now() + timeoutMs;
    for (;;) {
      if (!this.running()) throw new Error(`cognate exited while waiting for ${what()}\n${this.describe()}`);
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}\n${this.describe()}`);
      await sleep(interval);
    }
  }

  /**
   * The content of the JSON file <data>/<file>, once it parses and
   * accept(value) holds; what(last value) adds to the failure message.
   */
  async waitForJson(file, { accept = Boolean, what = () => 'to be written', timeoutMs = 10_000 } = {}) {
    const full = path.join(this.dataDir, file);
    let last;
    await this.waitFor(async () => {
      try {
        last = JSON.parse(await readFile(full, 'utf8'));
      } catch {
        return false; // not written yet, or still being written
      }
      return accept(last);
    }, { what: () => `${full} ${what(last)}`, timeoutMs, interval: 100 });
    return last;
  }

  /** Waits until GET url (plain HTTP) answers 200. */
  async waitForOK(url) {
    let last = '';
    await this.waitFor(async () => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        last = `${res.status}`;
        return res.status === 200;
      } catch (err) {
        last = err?.cause?.code ?? err.message;
        return false;
      }
    }, { what: () => `GET ${url} to answer 200 (last: ${last})` });
  }
}

/**
 * Starts a Cognate and resolves once GET /healthz on its HTTP port answers
 * 200 (within COGNATE_STARTUP_TIMEOUT_MS).
 *
 *   name: names the work directory;
 *   ports: how many distinct free loopback ports to pick; ports[0] is the
 *     HTTP listener (--addr), the others are the caller's;
 *   args(ports): more `serve` flags (--public-url, --tls-addr, …);
 *   config: an object in the server's FileConfig shape, or a function of
 *     ports that returns one, written to the --config file;
 *   bin: the binary to run (default: cognateBinary's), so that servers
 *     started together share one build;
 *   env: variables added to this process's environment for the server.
 *
 * The server is killed when this process exits. If it does not become
 * healthy it is stopped, and the error shows its command line and output.
 */
export async function startCognate({ name, ports: portCount = 1, args = () => [], config, bin, env } = {}) {
  const workDir = await mkdtemp(path.join(os.tmpdir(), `cognate-${name}-`));
  const dataDir = path.join(workDir, 'data');
  try {
    bin ??= await cognateBinary(workDir);
  } catch (err) {
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
  const ports = await freePorts(portCount);
  // Nothing scrapes metrics here, and the default port must stay free for
  // parallel runs and a developer's own server.
  const argv = ['serve', '--addr', `127.0.0.1:${ports[0]}`, '--metrics-addr', 'off', '--data', dataDir, ...args(ports)];
  const cognate = new Cognate({ bin, argv, env, ports, workDir, dataDir });
  try {
    if (config) {
      const file = path.join(workDir, 'config.json');
      await writeFile(file, JSON.stringify(typeof config === 'function' ? config(ports) : config, null, 2));
      argv.push('--config', file);
    }
    cognate.spawn();
    await cognate.waitForOK(`${cognate.http}/healthz`);
  } catch (err) {
    await cognate.stop();
    throw err;
  }
  return cognate;
}

/** The status of an HTTPS GET of url that trusts ca. */
function httpsStatus(url, ca) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * For a server started with --tls-addr: waits until it has written its CA,
 * certificate and key (<data>/tls/{ca,cert,key}.pem) and its HTTPS listener
 * at publicURL answers GET /healthz with a certificate ca.pem vouches for.
 * Returns { caFile, ca, cert, key } (PEM text).
 */
export async function waitForTLS(cognate, publicURL) {
  const tlsDir = path.join(cognate.dataDir, 'tls');
  const [caFile, certFile, keyFile] = ['ca.pem', 'cert.pem', 'key.pem'].map((f) => path.join(tlsDir, f));
  await cognate.waitFor(() => [caFile, certFile, keyFile].every((f) => existsSync(f)), {
    what: () => `ca.pem, cert.pem and key.pem in ${tlsDir} (was --tls-addr honoured?)`,
    interval: 100,
  });
  const [ca, cert, key] = await Promise.all([caFile, certFile, keyFile].map((f) => readFile(f, 'utf8')));
  let last = '';
  await cognate.waitFor(async () => {
    try {
      const status = await httpsStatus(`${publicURL}/healthz`, ca);
      last = `${status}`;
      return status === 200;
    } catch (err) {
      last = err.code ?? err.message;
      return false;
    }
  }, { what: () => `GET ${publicURL}/healthz over HTTPS to answer 200 (last: ${last})` });
  return { caFile, ca, cert, key };
}

/**
 * The server's dev outbox (GET <http>/_dev/outbox.json): the messages it
 * would have sent. `at` is { http, dataDir }: the outbox answers only with
 * the key in <data>/dev-outbox-key, as it does for a developer.
 */
export async function readOutbox(at) {
  const key = (await readFile(path.join(at.dataDir, 'dev-outbox-key'), 'utf8')).trim();
  const res = await fetch(`${at.http}/_dev/outbox.json`, { headers: { 'x-cognate-outbox-key': key } });
  if (res.status !== 200) throw new Error(`GET /_dev/outbox.json -> ${res.status} ${await res.text()}`);
  const list = await res.json();
  if (!Array.isArray(list)) throw new Error(`the outbox is not a JSON array: ${JSON.stringify(list).slice(0, 1500)}`);
  return list;
}

const outboxKey = (e) => JSON.stringify([e.kind, e.destination, e.code, e.created_at, e.username]);

/** Keys of the outbox's current entries, to pass as waitForMessage's exclude. */
export async function outboxSnapshot(at) {
  return new Set((await readOutbox(at)).map(outboxKey));
}

/**
 * Polls the outbox for the newest entry of kind to destination that is not
 * in exclude (a snapshot taken before the action that sends it), and
 * returns it ({pool_id, username, destination, kind, code, created_at}).
 */
export async function waitForMessage(at, { destination, kind, exclude, timeoutMs = 10_000 }) {
  const to = (e) => String(e.destination).toLowerCase() === destination.toLowerCase();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await readOutbox(at);
    const hit = list.find((e) => e.kind === kind && to(e) && !(exclude && exclude.has(outboxKey(e))));
    if (hit) return hit;
    if (Date.now() > deadline) {
      throw new Error(`no new outbox entry kind=${kind} destination=${destination} within ${timeoutMs} ms; ` +
        `entries for that destination: ${JSON.stringify(list.filter(to)).slice(0, 2000)}; outbox size ${list.length}`);
    }
    await sleep(150);
  }
}
