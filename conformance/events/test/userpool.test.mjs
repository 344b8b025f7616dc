// The Amplify Events client with userPool auth: users made with
// `cognate admin create-user`, signed in through Amplify Auth (SRP) against
// the same server, then events with authMode 'userPool' (Amplify sends the
// access token). Also mixed modes on one socket, a signed-out client, and
// tokens that are forged, unsigned, or ID tokens.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import {
  Client, assertPostRefused, assertPublishRefused, assertSubscribeRefused, check, createUser, decodeJwt,
  expectRejection, startServer, stopClients, uniqueChannel,
} from './harness.mjs';

const USER_POOL = { authMode: 'userPool' };

let server;
let alice;
let bob;

before(async () => {
  server = await startServer();
  alice = await createUser(server, { tag: 'alice' });
  bob = await createUser(server, { tag: 'bob' });
});

after(async () => {
  await stopClients();
  await server?.stop();
});

async function signedIn(user, name) {
  const c = await Client.start(server, { name });
  const tokens = await c.signIn(user);
  assert.ok(tokens?.accessToken, `${name} is signed in`);
  return c;
}

/** A token with the payload changed and the original signature kept. */
function tamper(token, change) {
  const [h, p, sig] = token.split('.');
  const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString('utf8')), ...change };
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
}

/** The same claims, alg "none", no signature. */
function unsigned(token) {
  const [, p] = token.split('.');
  return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
}

check('a user signed in through Amplify Auth connects, subscribes and publishes with authMode userPool', async () => {
  const [a, b] = await Promise.all([signedIn(alice, 'alice'), signedIn(bob, 'bob')]);
  const claims = decodeJwt(a.tokens.accessToken);
  assert.equal(claims.token_use, 'access');
  assert.equal(claims.iss, `${server.https}/${server.poolId}`, 'tokens come from this server');

  const ch = uniqueChannel('up');
  const aCh = await a.connect(ch, USER_POOL);
  const bCh = await b.connect(ch, USER_POOL);
  const { sockets } = await a.log();
  assert.equal(sockets[0].auth.Authorization, a.tokens.accessToken, 'the socket was authorized with the access token');
  assert.equal(sockets[0].auth['x-api-key'], undefined, 'and no API key');

  const aSub = await aCh.subscribe(USER_POOL);
  const bSub = await bCh.subscribe(USER_POOL);
  await aCh.publish({ from: 'alice', n: 1 }, USER_POOL);
  await bCh.publish([{ from: 'bob', n: 2 }, { from: 'bob', n: 3 }], USER_POOL);
  assert.equal(await a.post(ch, { from: 'alice', n: 4, via: 'post' }, USER_POOL), null);
  const want = [{ from: 'alice', n: 1 }, { from: 'bob', n: 2 }, { from: 'bob', n: 3 }, { from: 'alice', n: 4, via: 'post' }];
  for (const [who, sub] of [['alice', aSub], ['bob', bSub]]) {
    const got = await sub.take(4);
    assert.deepEqual(got.toSorted((x, y) => x.n - y.n), want, `${who} gets all four`);
    assert.deepEqual(got.filter((e) => e.from === 'bob'), want.slice(1, 3), `${who} gets bob's batch in order`);
  }
});

check('userPool and API-key clients reach each other', async () => {
  const ch = uniqueChannel('mixed');
  const [a, keyed] = await Promise.all([signedIn(alice, 'alice'), Client.start(server, { name: 'api-key' })]);
  const aSub = await (await a.connect(ch, USER_POOL)).subscribe(USER_POOL);
  const kSub = await (await keyed.connect(ch)).subscribe();
  assert.equal(await a.post(ch, { from: 'user' }, USER_POOL), null);
  assert.equal(await keyed.post(ch, { from: 'key' }), null);
  for (const [who, sub] of [['the userPool subscriber', aSub], ['the API-key subscriber', kSub]]) {
    const got = await sub.take(2);
    assert.deepEqual(got.map((e) => e.from).sort(), ['key', 'user'], `${who} gets both`);
  }
});

check('one socket, several modes: connect with the API key, subscribe and publish with the user token', async () => {
  const ch = uniqueChannel('permsg');
  const a = await signedIn(alice, 'alice');
  const channel = await a.connect(ch); // the configured default: apiKey
  const { sockets } = await a.log();
  assert.equal(sockets[0].auth['x-api-key'], server.events.api_key, 'the socket was authorized with the API key');
  const s = await channel.subscribe(USER_POOL);
  await channel.publish({ per: 'message auth' }, USER_POOL);
  assert.deepEqual(await s.take(1), [{ per: 'message auth' }]);
});

check('a client that is not signed in is refused with userPool auth', async () => {
  const ch = uniqueChannel('anon');
  const anon = await Client.start(server, { name: 'signed-out' });
  const err = await expectRejection(anon.connect(ch, USER_POOL), 'connect with no token');
  assert.match(err.remote.message, /UnauthorizedException/);
  const { sockets } = await anon.log();
  assert.equal(sockets[0].auth.Authorization, undefined, 'Amplify sent no token');
  assert.equal(sockets[0].frames.find((f) => f.type === 'connection_error')?.errors?.[0]?.errorType, 'UnauthorizedException',
    'connection_error UnauthorizedException');

  // Connected with the API key, a subscribe carrying no token is refused on its own.
  const channel = await anon.connect(ch);
  await assertSubscribeRefused(await expectRejection(channel.subscribe(USER_POOL), 'subscribe with no token'), 'UnauthorizedException');
  assertPublishRefused(await expectRejection(channel.publish({ x: 1 }, USER_POOL), 'publish with no token'), 'UnauthorizedException');
});

check('forged and unsigned tokens are refused; an ID token from the pool is accepted', async () => {
  const ch = uniqueChannel('forged');
  const [a, keyed, forger] = await Promise.all([
    signedIn(alice, 'alice'), Client.start(server, { name: 'keyed' }), Client.start(server, { name: 'forger' }),
  ]);
  const { accessToken, idToken } = a.tokens;
  const bad = [
    ['a token whose claims were changed', tamper(accessToken, { sub: '00000000-0000-0000-0000-000000000000' })],
    ['a token with alg none', unsigned(accessToken)],
    ['a token with a far exp and the old signature', tamper(accessToken, { exp: decodeJwt(accessToken).exp + 86_400 })],
    ['not a JWT', 'not-a-token'],
  ];
  // 'lambda' mode sends authToken verbatim as Authorization, which is how a
  // client would present any bearer token.
  const as = (token) => ({ authMode: 'lambda', authToken: token });

  const channel = await keyed.connect(ch);
  const watcher = await channel.subscribe();
  for (const [what, token] of bad) {
    // A refused connect leaves no socket, so the next connect opens a new one with its own token.
    const err = await expectRejection(forger.connect(ch, as(token)), `connect with ${what}`);
    assert.match(err.remote.message, /UnauthorizedException/, `connect with ${what}`);
    await assertSubscribeRefused(await expectRejection(channel.subscribe(as(token)), `subscribe with ${what}`), 'UnauthorizedException', `subscribe with ${what}`);
    assertPublishRefused(await expectRejection(channel.publish({ forged: what }, as(token)), `publish with ${what}`), 'UnauthorizedException', `publish with ${what}`);
    assertPostRefused(await expectRejection(keyed.post(ch, { forged: what }, as(token)), `post with ${what}`), 'UnauthorizedException', `post with ${what}`);
  }
  const { sockets } = await forger.log();
  assert.deepEqual(sockets.map((x) => x.auth.Authorization), bad.map(([, token]) => token),
    'one socket per bad token, each refused without a retry');

  assert.equal(await keyed.post(ch, { with: 'id token' }, as(idToken)), null, 'events.post with the ID token');
  const s = await channel.subscribe(as(idToken));
  await channel.publish({ with: 'id token, ws' }, as(idToken));
  assert.deepEqual(await s.take(1), [{ with: 'id token, ws' }]);
  assert.deepEqual(await watcher.take(2), [{ with: 'id token' }, { with: 'id token, ws' }], 'no forged event got through');
});
