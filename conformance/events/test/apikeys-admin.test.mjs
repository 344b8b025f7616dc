// API keys made with `cognate admin create-api-key` while the server runs:
// a new key works for connect, subscribe, publish and events.post; a key
// past its --expires, and a key removed with delete-api-key, are refused.
// The CLI opens the data directory's database directly; the running server
// caches key lookups for a few seconds, so refusals are polled for.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import {
  Client, admin, assertPostRefused, check, expectRejection, RemoteError, sleep, startServer, stopClients,
  uniqueChannel, waitUntil,
} from './harness.mjs';

const CACHE_GRACE_MS = 15_000;

let server;
let poster;

before(async () => {
  server = await startServer();
  poster = await Client.start(server, { name: 'poster' });
});

after(async () => {
  await stopClients();
  await server?.stop();
});

/** create-api-key; returns {key, id, stdout}. */
async function createKey(description, expires) {
  const args = ['--description', description];
  if (expires) args.push('--expires', expires);
  const { stdout } = await admin(server, 'create-api-key', ...args);
  const key = stdout.match(/\bda2-[a-z2-7]{26}\b/)?.[0];
  const id = stdout.match(/\bid ([A-Za-z0-9_-]+)/)?.[1];
  const expiresAt = Date.parse(stdout.match(/\bexpires (\S+?)[\s)]/)?.[1]);
  assert.ok(key && id && expiresAt, `create-api-key printed a key, its id and its expiry: ${stdout}`);
  return { key, id, expiresAt, stdout };
}

/** events.post with apiKey key: 'ok', or the RemoteError. */
async function tryPost(ch, key, n) {
  try {
    const failed = await poster.post(ch, { n }, { apiKey: key });
    assert.equal(failed, null);
    return 'ok';
  } catch (err) {
    if (err instanceof RemoteError) return err;
    throw err;
  }
}

/** Polls until events.post with key is refused; returns the refusal. */
async function waitRefused(ch, key, what) {
  let last;
  await waitUntil(async () => {
    last = await tryPost(ch, key, 'poll');
    return last !== 'ok';
  }, { timeoutMs: CACHE_GRACE_MS, interval: 500, describe: () => `${what} to be refused` });
  return last;
}

check('a key made with create-api-key works for connect, subscribe, publish and post; list-api-keys shows it', async () => {
  const description = `conformance ${Date.now()}`;
  const { key, id } = await createKey(description);
  const { stdout } = await admin(server, 'list-api-keys');
  const row = stdout.split('\n').find((l) => l.startsWith(id));
  assert.ok(row, `list-api-keys lists id ${id}:\n${stdout}`);
  assert.ok(row.includes(description), 'with its description');
  assert.ok(!stdout.includes(key), 'but never the key itself');

  const ch = uniqueChannel('newkey');
  const c = await Client.start(server, { name: 'new-key' });
  const channel = await c.connect(ch, { apiKey: key });
  const { sockets } = await c.log();
  assert.equal(sockets[0].auth['x-api-key'], key);
  const s = await channel.subscribe({ apiKey: key });
  await channel.publish({ n: 1 }, { apiKey: key });
  assert.equal(await tryPost(ch, key, 2), 'ok');
  assert.deepEqual(await s.take(2), [{ n: 1 }, { n: 2 }]);
});

check('a key past its --expires is refused', async () => {
  const ch = uniqueChannel('expkey');
  const { key, expiresAt } = await createKey('short-lived', '6s');
  assert.ok(expiresAt - Date.now() > 2000, `the key expires at ${new Date(expiresAt).toISOString()}, later than now`);
  assert.equal(await tryPost(ch, key, 'fresh'), 'ok', 'the key works before it expires');
  // The printed expiry is RFC 3339 to the second, so the real one is at most 1 s later.
  await sleep(Math.max(0, expiresAt + 1200 - Date.now()));
  const err = await tryPost(ch, key, 'expired');
  assert.notEqual(err, 'ok', 'events.post with the expired key was accepted');
  assertPostRefused(err, 'UnauthorizedException', 'post with an expired key');
  const c = await Client.start(server, { name: 'expired-key' });
  const connErr = await expectRejection(c.connect(ch, { apiKey: key }), 'connect with an expired key');
  assert.match(connErr.remote.message, /UnauthorizedException/);
});

check('a key removed with delete-api-key is refused', async () => {
  const ch = uniqueChannel('delkey');
  const { key, id } = await createKey('to delete');
  assert.equal(await tryPost(ch, key, 'before'), 'ok', 'the key works before it is deleted');
  const { stdout } = await admin(server, 'delete-api-key', '--id', id);
  assert.match(stdout, new RegExp(`deleted ${id}`));
  assert.ok(!(await admin(server, 'list-api-keys')).stdout.includes(id), 'list-api-keys no longer lists it');
  assertPostRefused(await waitRefused(ch, key, 'the deleted key'), 'UnauthorizedException', 'post with a deleted key');
  const c = await Client.start(server, { name: 'deleted-key' });
  const connErr = await expectRejection(c.connect(ch, { apiKey: key }), 'connect with a deleted key');
  assert.match(connErr.remote.message, /UnauthorizedException/);
});
