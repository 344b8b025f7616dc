// The Amplify Events client with API-key auth (the dev key from
// amplify_outputs.json) against `cognate serve` over wss:// and https://:
// configuration from the outputs file, the CA, connect/subscribe/publish,
// events.post, wildcards, invalid channels, the 5-event and 240 KB limits,
// wrong keys, unsubscribe, channel.close and closeAll.

import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before } from 'node:test';

import {
  Client, assertPostRefused, assertPublishRefused, assertSubscribeRefused, check, expectRejection,
  sleep, startServer, stopClients, uniqueChannel, waitUntil,
} from './harness.mjs';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Well-formed (da2- and 26 base32 characters), so the server looks it up.
const WRONG_KEY = `da2-${'wrong'.repeat(5)}w`;
const KEEPALIVE_S = 2;

let server;

before(async () => {
  server = await startServer({ args: ['--events-keepalive', `${KEEPALIVE_S}s`] });
});

after(async () => {
  await stopClients();
  await server?.stop();
});

/** Waits until the socket log of client shows a frame matching pred; returns it. */
async function waitForFrame(client, pred, what, timeoutMs = 10_000) {
  let frames = [];
  return waitUntil(async () => {
    const { sockets } = await client.log();
    frames = sockets.flatMap((s) => s.frames.map((f) => ({ socket: s.n, ...f })));
    return frames.find(pred);
  }, { timeoutMs, describe: () => `${what}; frames seen: ${JSON.stringify(frames.slice(-10))}` });
}

check('amplify_outputs.json has custom.events with the HTTPS endpoint and the dev API key', async () => {
  const e = server.events;
  assert.equal(e.url, `https://localhost:${server.tlsPort}/event`, 'custom.events.url');
  assert.equal(e.aws_region, server.outputs.auth.aws_region, 'custom.events.aws_region');
  assert.equal(e.default_authorization_type, 'API_KEY', 'custom.events.default_authorization_type');
  assert.match(e.api_key, /^da2-[A-Za-z0-9]{16,}$/, 'custom.events.api_key');

  const keyFile = path.join(server.dataDir, 'events-dev-key');
  assert.equal((await readFile(keyFile, 'utf8')).trim(), e.api_key, `${keyFile} holds the same key`);
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600, `${keyFile} mode`);

  // Amplify's own parser (what Amplify.configure(outputs) does) maps it to API.Events.
  const c = await Client.start(server, { name: 'config' });
  assert.deepEqual(c.eventsConfig, {
    endpoint: e.url, region: e.aws_region, defaultAuthMode: 'apiKey', apiKey: e.api_key,
  });
});

check('the generated CA is trusted through NODE_EXTRA_CA_CERTS alone, for https:// and wss://', async () => {
  const healthz = `${server.https}/healthz`;
  const ch = uniqueChannel('tls');

  const [untrusting, trusting] = await Promise.all([
    Client.start(server, { name: 'no-ca', trustCA: false }),
    Client.start(server, { name: 'ca' }),
  ]);
  const fetchErr = await expectRejection(untrusting.fetchStatus(healthz), 'fetch without the CA');
  assert.match(JSON.stringify(fetchErr.remote), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT/,
    'fetch fails on the certificate');
  // Node 20's undici WebSocket never fires `close` after a TLS failure, so
  // Amplify would wait forever; with it only fetch is checked here.
  if (process.env.EVENTS_WEBSOCKET !== 'native') {
    await expectRejection(untrusting.connect(ch), 'events.connect without the CA');
    const { sockets: refused } = await untrusting.log();
    assert.ok(refused.length >= 1, 'Amplify tried to open a socket');
    assert.ok(refused.every((s) => s.openedAt === null), 'no socket opened without the CA');
    assert.match(JSON.stringify(refused[0].errors), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|unable to verify/i,
      'the WebSocket fails on the certificate');
  }

  assert.deepEqual(await trusting.fetchStatus(healthz), { status: 200 });
  await trusting.connect(ch);
  const { sockets } = await trusting.log();
  assert.equal(sockets.length, 1, 'one socket');
  const s = sockets[0];
  assert.ok(s.openedAt, 'the socket opened');
  assert.equal(s.url, `wss://localhost:${server.tlsPort}/event/realtime`, 'Amplify derives the realtime URL from custom.events.url');
  assert.equal(s.protocol, 'aws-appsync-event-ws', 'the server chose the aws-appsync-event-ws subprotocol');
  assert.equal(s.auth.host, `localhost:${server.tlsPort}`, 'auth header host');
  assert.equal(s.auth['x-api-key'], server.events.api_key, 'auth header x-api-key');
  const ack = s.frames.find((f) => f.type === 'connection_ack');
  assert.ok(ack, `connection_ack received (frames: ${JSON.stringify(s.frames)})`);
  assert.ok(Number.isInteger(ack.connectionTimeoutMs) && ack.connectionTimeoutMs > 0,
    `connection_ack.connectionTimeoutMs ${ack.connectionTimeoutMs}`);
  // --events-keepalive 2s: ka frames keep coming on an idle socket.
  await waitForFrame(trusting, (f) => f.type === 'ka' && f.at > ack.at + KEEPALIVE_S * 1000, 'a second ka frame', KEEPALIVE_S * 4000);
});

check('connect, subscribe and publish: every event arrives once, in order, as sent, at every subscriber', async () => {
  const ch = uniqueChannel('room');
  const [alice, bob] = await Promise.all([Client.start(server, { name: 'alice' }), Client.start(server, { name: 'bob' })]);
  const aliceCh = await alice.connect(ch);
  const bobCh = await bob.connect(ch);
  const aliceSub = await aliceCh.subscribe();
  const bobSub = await bobCh.subscribe();
  assert.match(aliceSub.subscriptionId, UUID_RE, 'ready resolves with the subscription id');

  const single = { text: 'hello', n: 1, nested: { list: [1, 'two', null], ok: true }, unicode: 'héllo ✓ 😀' };
  const batch = [42, 'a string', [1, [2, 3]], false];
  await aliceCh.publish(single);
  await aliceCh.publish(batch);
  const want = [single, ...batch];

  for (const [who, sub] of [['alice (the publisher)', aliceSub], ['bob', bobSub]]) {
    assert.deepEqual(await sub.take(want.length), want, `${who} receives the events in publish order`);
    for (const r of sub.received) {
      assert.equal(r.data.type, 'data');
      assert.equal(r.data.id, sub.subscriptionId, 'data frames carry the subscription id');
    }
  }
  await sleep(300);
  assert.equal(aliceSub.received.length, want.length, 'no duplicates for alice');
  assert.equal(bobSub.received.length, want.length, 'no duplicates for bob');
});

check('events.post delivers to WebSocket subscribers and reports no failures', async () => {
  const ch = uniqueChannel('post');
  const noSlash = uniqueChannel('noslash').slice(1);
  const [sub, pub] = await Promise.all([Client.start(server, { name: 'subscriber' }), Client.start(server, { name: 'poster' })]);
  const s = await (await sub.connect(ch)).subscribe();
  // Amplify sends the channel as given over the socket; post() adds the slash.
  const s2 = await (await sub.connect(noSlash)).subscribe();

  assert.equal(await pub.post(ch, { via: 'post', i: 0 }), null, 'events.post returns nothing when all were accepted');
  assert.equal(await pub.post(ch, [{ i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }, { i: 5 }]), null);
  assert.deepEqual(await s.take(6), [{ via: 'post', i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }, { i: 5 }]);

  assert.equal(await pub.post(noSlash, { where: 'no leading slash' }), null);
  assert.deepEqual(await s2.take(1), [{ where: 'no leading slash' }], 'a channel without its leading slash is the same channel');
});

check('wildcard subscriptions get every channel below them, and nothing else', async () => {
  const base = uniqueChannel('wild');
  const other = uniqueChannel('other');
  const [c, pub] = await Promise.all([Client.start(server, { name: 'wildcard' }), Client.start(server, { name: 'publisher' })]);
  const deep = await (await c.connect(`${base}/*`)).subscribe();
  const all = await (await c.connect('/default/*')).subscribe();
  const exact = await (await c.connect(`${base}/a`)).subscribe();

  await pub.post(`${other}/a`, { to: 'other' });
  await pub.post(`${base}/a`, { to: 'a' });
  await pub.post(`${base}/a/b`, { to: 'a/b' });
  await pub.post(`${base}/a/b/c`, { to: 'a/b/c' });
  assert.deepEqual(await deep.take(3), [{ to: 'a' }, { to: 'a/b' }, { to: 'a/b/c' }],
    `${base}/* gets ${base}/a, ${base}/a/b and ${base}/a/b/c`);
  await all.waitForEvent((e) => e.to === 'a/b', { what: `/default/* to get ${base}/a/b` });
  await all.waitForEvent((e) => e.to === 'other', { what: `/default/* to get ${other}/a` });
  assert.deepEqual(await exact.take(1), [{ to: 'a' }], 'the exact subscription gets its own channel');
  await sleep(300);
  assert.deepEqual(exact.events, [{ to: 'a' }], 'an exact subscription does not get sub-channels');
  assert.ok(!deep.events.some((e) => e.to === 'other'), `${base}/* does not get ${other}/a`);
});

const INVALID = [
  ['a character outside [A-Za-z0-9-]', (p) => `${p}/bad$chan`],
  ['six segments', (p) => `${p}/b/c/d/e`],
  ['a segment over 50 characters', (p) => `${p}/${'x'.repeat(51)}`],
  ['a wildcard that is not the last segment', (p) => `${p}/*/x`],
];

check('invalid channels are refused with BadRequestException on subscribe, publish and post', async () => {
  const c = await Client.start(server, { name: 'invalid' });
  const prefix = uniqueChannel('inv');
  for (const [why, make] of INVALID) {
    const ch = make(prefix);
    const channel = await c.connect(ch);
    await assertSubscribeRefused(await expectRejection(channel.subscribe(), `subscribe ${ch}`), 'BadRequestException', `subscribe to ${why} (${ch})`);
    assertPublishRefused(await expectRejection(channel.publish({ x: 1 }), `publish ${ch}`), 'BadRequestException', `publish to ${why}`);
    assertPostRefused(await expectRejection(c.post(ch, { x: 1 }), `post ${ch}`), 'BadRequestException', `post to ${why}`);
  }
  // The same socket still serves valid channels.
  const ok = await c.connect(`${prefix}/fine`);
  const s = await ok.subscribe();
  await ok.publish({ still: 'working' });
  assert.deepEqual(await s.take(1), [{ still: 'working' }]);
});

check('a channel in a namespace that does not exist is refused with BadRequestException', async () => {
  const c = await Client.start(server, { name: 'nons' });
  const ch = uniqueChannel('x', 'nosuchnamespace');
  const channel = await c.connect(ch);
  await assertSubscribeRefused(await expectRejection(channel.subscribe(), `subscribe ${ch}`), 'BadRequestException');
  assertPublishRefused(await expectRejection(channel.publish({ x: 1 }), `publish ${ch}`), 'BadRequestException');
  assertPostRefused(await expectRejection(c.post(ch, { x: 1 }), `post ${ch}`), 'BadRequestException');
});

check('publishing to a wildcard channel is refused; subscribers get nothing', async () => {
  const base = uniqueChannel('wpub');
  const c = await Client.start(server, { name: 'wpub' });
  const s = await (await c.connect(`${base}/*`)).subscribe();
  const wild = await c.connect(`${base}/*`);
  assertPublishRefused(await expectRejection(wild.publish({ x: 'ws' }), 'publish to a wildcard'), 'BadRequestException');
  assertPostRefused(await expectRejection(c.post(`${base}/*`, { x: 'post' }), 'post to a wildcard'), 'BadRequestException');
  await c.post(`${base}/sentinel`, { sentinel: true });
  await s.take(1);
  assert.deepEqual(s.events, [{ sentinel: true }], 'only the sentinel arrived');
});

check('more than 5 events in one publish are refused; 5 are delivered in order', async () => {
  const ch = uniqueChannel('limit');
  const c = await Client.start(server, { name: 'limit' });
  const channel = await c.connect(ch);
  const s = await channel.subscribe();
  const six = [1, 2, 3, 4, 5, 6].map((i) => ({ six: i }));
  assertPublishRefused(await expectRejection(channel.publish(six), 'publish of 6'), 'BadRequestException');
  assertPostRefused(await expectRejection(c.post(ch, six), 'post of 6'), 'BadRequestException');
  const five = [1, 2, 3, 4, 5].map((i) => ({ five: i }));
  await channel.publish(five);
  assert.equal(await c.post(ch, five), null);
  assert.deepEqual(await s.take(10), [...five, ...five], 'both batches of 5, in order, and none of the 6');
  await sleep(300);
  assert.equal(s.received.length, 10, 'nothing else arrived');
});

check('an event over 240 KB is a failed entry (EventTooLargeException); the rest of the batch is delivered', async () => {
  const ch = uniqueChannel('big');
  const c = await Client.start(server, { name: 'big' });
  const channel = await c.connect(ch);
  const s = await channel.subscribe();

  const { failed, lengths } = await c.postSized(ch, [100, 250_000, 200_000]);
  assert.deepEqual(lengths, [100, 250_000, 200_000]);
  assert.ok(Array.isArray(failed) && failed.length === 1, `events.post returns one failed entry, got ${JSON.stringify(failed)}`);
  assert.equal(failed[0].index, 1, 'failed[0].index');
  assert.equal(failed[0].code, 'EventTooLargeException', 'failed[0].code');
  assert.equal(typeof failed[0].identifier, 'string', 'failed[0].identifier');
  assert.equal(typeof failed[0].message, 'string', 'failed[0].message');
  const got = await s.take(2, { timeoutMs: 15_000 });
  assert.deepEqual(got.map((e) => e.i), [0, 2], 'the 100-byte and the 200,000-byte events arrive, in order');
  assert.equal(JSON.stringify(got[1]).length, 200_000, 'the 200,000-byte event arrives whole');

  // Over the socket: publish_success lists the failure, so Amplify resolves.
  await channel.publishSized([50, 250_000]);
  await s.take(3, { timeoutMs: 15_000 });
  await sleep(300);
  assert.deepEqual(s.events.map((e) => e.i), [0, 2, 0], 'only the small event of the WebSocket publish arrives');
});

check('a wrong API key is refused on connect, subscribe, publish and post', async () => {
  const ch = uniqueChannel('wrongkey');
  const [bad, good] = await Promise.all([Client.start(server, { name: 'wrong-key' }), Client.start(server, { name: 'good-key' })]);
  const connErr = await expectRejection(bad.connect(ch, { apiKey: WRONG_KEY }), 'connect with a wrong key');
  assert.match(connErr.remote.message, /UnauthorizedException/, 'connect rejects with the connection_error type');
  const { sockets } = await bad.log();
  const frame = sockets[0]?.frames.find((f) => f.type === 'connection_error');
  assert.ok(frame, `connection_error frame (frames: ${JSON.stringify(sockets[0]?.frames)})`);
  assert.equal(frame.errors?.[0]?.errorType, 'UnauthorizedException');
  assert.equal(sockets.length, 1, 'Amplify does not retry a non-retryable connection_error');

  const channel = await good.connect(ch);
  await assertSubscribeRefused(await expectRejection(channel.subscribe({ apiKey: WRONG_KEY }), 'subscribe with a wrong key'),
    'UnauthorizedException');
  assertPublishRefused(await expectRejection(channel.publish({ x: 1 }, { apiKey: WRONG_KEY }), 'publish with a wrong key'),
    'UnauthorizedException');
  assertPostRefused(await expectRejection(good.post(ch, { x: 1 }, { apiKey: WRONG_KEY }), 'post with a wrong key'),
    'UnauthorizedException');
  // Per-operation authorization: the same socket still works with the right key.
  const s = await channel.subscribe();
  await channel.publish({ after: 'refusals' });
  assert.deepEqual(await s.take(1), [{ after: 'refusals' }]);
});

check('unsubscribe stops delivery to that subscription only', async () => {
  const ch = uniqueChannel('unsub');
  const [c, pub] = await Promise.all([Client.start(server, { name: 'unsub' }), Client.start(server, { name: 'pub' })]);
  const channel = await c.connect(ch);
  const gone = await channel.subscribe();
  const kept = await (await c.connect(ch)).subscribe();
  await pub.post(ch, { n: 1 });
  await gone.take(1);
  await kept.take(1);
  await gone.unsubscribe();
  await waitForFrame(c, (f) => f.type === 'unsubscribe_success' && f.id === gone.subscriptionId, 'unsubscribe_success for the subscription');
  await pub.post(ch, { n: 2 });
  assert.deepEqual(await kept.take(2), [{ n: 1 }, { n: 2 }]);
  await sleep(300);
  assert.deepEqual(gone.events, [{ n: 1 }], 'nothing after unsubscribe');
});

check('channel.close ends the socket cleanly; closeAll closes it at once; connect works again after', async () => {
  const [pub, closer, all] = await Promise.all(['pub', 'close', 'closeall'].map((name) => Client.start(server, { name })));

  const ch1 = uniqueChannel('close');
  const channel = await closer.connect(ch1);
  const s1 = await channel.subscribe();
  await channel.close();
  await waitForFrame(closer, (f) => f.type === 'unsubscribe_success' && f.id === s1.subscriptionId, 'unsubscribe_success after close');
  const closed = await waitUntil(async () => (await closer.log()).sockets.find((s) => s.closedAt), {
    timeoutMs: 5000, describe: () => 'the socket to close about 1 s after the last channel closed',
  });
  assert.equal(closed.closeCode, 1000, 'normal closure');

  const ch2 = uniqueChannel('closeall');
  const old = await all.connect(ch2);
  const s2 = await old.subscribe();
  await pub.post(ch2, { n: 1 });
  await s2.take(1);
  await all.closeAll();
  const first = (await all.log()).sockets[0];
  assert.ok(first.closedAt, 'closeAll closed the socket');
  await pub.post(ch2, { n: 2 });
  await expectRejection(old.publish({ n: 'old channel' }), 'publish on a channel of the closed socket');

  const again = await all.connect(ch2);
  const s3 = await again.subscribe();
  const { sockets } = await all.log();
  assert.equal(sockets.length, 2, 'a new socket');
  assert.ok(sockets[1].openedAt && !sockets[1].closedAt, 'the new socket is open');
  await pub.post(ch2, { n: 3 });
  assert.deepEqual(await s3.take(1), [{ n: 3 }], 'the new subscription gets events');
  assert.deepEqual(s2.events, [{ n: 1 }], 'the closed subscription got nothing more');
});
