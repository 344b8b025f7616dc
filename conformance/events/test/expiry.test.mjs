// Token expiry and reconnect, with `--token-lifetime 20s`: a socket
// authorized by a user-pool token is closed by the server with an error when
// that token expires; Amplify notices, waits its 5 s, refreshes the token
// (GetTokensFromRefreshToken), opens a new socket with the fresh token and
// re-subscribes with the same subscription id, so an event published after
// the expiry still reaches the subscriber. The expired token itself is
// refused afterwards.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import {
  Client, assertPostRefused, createUser, decodeJwt, expectRejection, scenario, startServer, stopClients,
  uniqueChannel, waitUntil,
} from './harness.mjs';

const LIFETIME_S = 20;
const USER_POOL = { authMode: 'userPool' };

let server;
let user;
let alice;
let publisher;
let sub;
let firstToken;
let firstExpMs;
let closedAt;
const ch = uniqueChannel('expiry');

before(async () => {
  server = await startServer({ args: ['--token-lifetime', `${LIFETIME_S}s`] });
  user = await createUser(server, { tag: 'expiry' });
});

after(async () => {
  await stopClients();
  await server?.stop();
});

const step = scenario();

step(`tokens live ${LIFETIME_S} s`, async () => {
  alice = await Client.start(server, { name: 'alice' });
  const t = await alice.signIn(user);
  assert.equal(t.exp - t.iat, LIFETIME_S, 'access token exp - iat');
  const id = decodeJwt(t.idToken);
  assert.equal(id.exp - id.iat, LIFETIME_S, 'id token exp - iat');
});

step('a socket authorized by the access token subscribes and receives', async () => {
  const channel = await alice.connect(ch, USER_POOL);
  sub = await channel.subscribe(USER_POOL);
  publisher = await Client.start(server, { name: 'publisher' });
  await publisher.post(ch, { seq: 0 });
  assert.deepEqual(await sub.take(1), [{ seq: 0 }]);
  const { sockets } = await alice.log();
  assert.equal(sockets.length, 1);
  firstToken = sockets[0].auth.Authorization;
  assert.equal(firstToken, alice.tokens.accessToken, 'the socket carries the signed-in access token');
  firstExpMs = decodeJwt(firstToken).exp * 1000;
  assert.ok(firstExpMs - Date.now() > 5000, `the token still has ${firstExpMs - Date.now()} ms to live`);
});

step('the server closes that socket, with an error, when the token expires', async (t) => {
  const first = await waitUntil(async () => {
    const s = (await alice.log()).sockets[0];
    return s.closedAt && s;
  }, {
    timeoutMs: Math.max(0, firstExpMs - Date.now()) + 15_000,
    interval: 200,
    describe: () => `the server to close the socket at the token's expiry (${new Date(firstExpMs).toISOString()})`,
  });
  closedAt = first.closedAt;
  assert.ok(closedAt >= firstExpMs - 1500, `closed ${firstExpMs - closedAt} ms before the token expired`);
  assert.ok(closedAt <= firstExpMs + 10_000, `closed ${closedAt - firstExpMs} ms after the token expired`);
  const errorFrame = first.frames.find((f) => ['connection_error', 'error'].includes(f.type) && f.errors?.length);
  t.diagnostic(`closed ${closedAt - firstExpMs} ms after exp with code ${first.closeCode} "${first.closeReason}"; ` +
    `error frame ${JSON.stringify(errorFrame)}`);
  assert.ok(errorFrame || ![1000, 1005, 1006].includes(first.closeCode),
    `an error frame or an error close code (code ${first.closeCode} "${first.closeReason}", last frames ${JSON.stringify(first.frames.slice(-3))})`);
}, { timeout: (LIFETIME_S + 30) * 1000 });

step('Amplify reconnects with a fresh token and re-subscribes with the same id', async () => {
  const second = await waitUntil(async () => {
    const s = (await alice.log()).sockets[1];
    return s?.frames.some((f) => f.type === 'subscribe_success') && s;
  }, { timeoutMs: 30_000, interval: 200, describe: () => 'a second socket with a subscribe_success' });
  assert.ok(second.openedAt > closedAt, 'opened after the first closed');
  assert.notEqual(second.auth.Authorization, firstToken, 'a different token');
  const claims = decodeJwt(second.auth.Authorization);
  assert.ok(claims.exp * 1000 > firstExpMs, 'a later expiry');
  assert.equal(claims.sub, alice.tokens.sub, 'the same user');
  const ack = second.frames.find((f) => f.type === 'subscribe_success');
  assert.equal(ack.id, sub.subscriptionId, 'Amplify re-sends subscribe with the original id');
  const { hub } = await alice.log();
  const after = hub.filter((h) => h.at >= closedAt).map((h) => h.state);
  assert.ok(after.includes('ConnectionDisrupted'), `Hub reports ConnectionDisrupted (${after.join(' → ')})`);
  assert.equal(after.at(-1), 'Connected', `and Connected again (${after.join(' → ')})`);
}, { timeout: 45_000 });

step('events published after the expiry reach the subscriber', async () => {
  await publisher.post(ch, { seq: 1 });
  await sub.waitForEvent((e) => e.seq === 1, { timeoutMs: 5000, what: 'the event posted after the reconnect' });
  const channel = await alice.connect(ch, USER_POOL);
  await channel.publish({ seq: 2, via: 'ws with the fresh token' }, USER_POOL);
  await sub.waitForEvent((e) => e.seq === 2, { timeoutMs: 5000, what: 'the event alice published after the reconnect' });
  assert.equal(sub.errors.length, 0, `observer.error was never called (${JSON.stringify(sub.errors)})`);
});

step('the expired token is refused on connect and post', async () => {
  const as = { authMode: 'lambda', authToken: firstToken };
  const c = await Client.start(server, { name: 'expired' });
  const err = await expectRejection(c.connect(ch, as), 'connect with the expired token');
  assert.match(err.remote.message, /UnauthorizedException/);
  assertPostRefused(await expectRejection(c.post(ch, { seq: 'expired' }, as), 'post with the expired token'), 'UnauthorizedException');
});
