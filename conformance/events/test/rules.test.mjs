// Channel rules with claim templates (beyond AppSync), declared with
// --config {"Events": ...}: a `users` namespace where /users/{sub}/* belongs
// to that user (user-pool tokens only), and an `announce` namespace where
// anyone may subscribe but only the `admin` group may publish. A foreign
// user's subscribe gets a subscribe_error that Amplify hands to
// observer.error, their publish and post are refused, and a wildcard cannot
// reach around the rule (aws-appsync-community#398).

import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import {
  Client, assertPostRefused, assertPublishRefused, assertSubscribeRefused, check, createUser,
  expectRejection, randomHex, sleep, startServer, stopClients,
} from './harness.mjs';

const USER_POOL = { authMode: 'userPool' };
const BOTH = [{ authType: 'API_KEY' }, { authType: 'AMAZON_COGNITO_USER_POOLS' }];
const POOLS_ONLY = [{ authType: 'AMAZON_COGNITO_USER_POOLS' }];

const EVENTS_CONFIG = {
  authProviders: BOTH,
  connectionAuthModes: BOTH,
  defaultPublishAuthModes: BOTH,
  defaultSubscribeAuthModes: BOTH,
  namespaces: [
    { name: 'default' },
    {
      name: 'users',
      publishAuthModes: POOLS_ONLY,
      subscribeAuthModes: POOLS_ONLY,
      channelRules: [{ channel: '/users/{sub}/*', operations: ['SUBSCRIBE', 'PUBLISH'] }],
    },
    {
      name: 'announce',
      channelRules: [
        { channel: '/announce/*', operations: ['SUBSCRIBE'] },
        { channel: '/announce/*', operations: ['PUBLISH'], groups: ['admin'] },
      ],
    },
  ],
};

let server;
let alice; // in group admin
let bob;
let keyed; // API key only
let aliceSub;
let bobSub;

before(async () => {
  server = await startServer({ config: { Events: EVENTS_CONFIG } });
  const a = await createUser(server, { tag: 'alice', groups: ['admin'] });
  const b = await createUser(server, { tag: 'bob' });
  [alice, bob, keyed] = await Promise.all(['alice', 'bob', 'api-key'].map((name) => Client.start(server, { name })));
  aliceSub = (await alice.signIn(a)).sub;
  bobSub = (await bob.signIn(b)).sub;
  assert.deepEqual(alice.tokens.groups, ['admin'], 'alice is in group admin');
});

after(async () => {
  await stopClients();
  await server?.stop();
});

const inbox = (sub, tag) => `/users/${sub}/${tag}-${randomHex(3)}`;

check('a user subscribes and publishes on their own /users/{sub}/ channels', async () => {
  const ch = inbox(aliceSub, 'own');
  const channel = await alice.connect(ch, USER_POOL);
  const exact = await channel.subscribe(USER_POOL);
  const mine = await (await alice.connect(`/users/${aliceSub}/*`, USER_POOL)).subscribe(USER_POOL);
  await channel.publish({ n: 1 }, USER_POOL);
  assert.equal(await alice.post(ch, { n: 2 }, USER_POOL), null);
  assert.deepEqual(await exact.take(2), [{ n: 1 }, { n: 2 }]);
  assert.deepEqual(await mine.take(2), [{ n: 1 }, { n: 2 }], `/users/<own sub>/* is allowed and gets them`);
});

check("another user's subscribe is refused and reaches observer.error", async () => {
  const channel = await bob.connect(inbox(aliceSub, 'spy'), USER_POOL);
  await assertSubscribeRefused(await expectRejection(channel.subscribe(USER_POOL), "bob subscribing to alice's channel"),
    'UnauthorizedException');
  for (const pattern of [`/users/${aliceSub}/*`, '/users/*']) {
    const wild = await bob.connect(pattern, USER_POOL);
    await assertSubscribeRefused(await expectRejection(wild.subscribe(USER_POOL), `bob subscribing to ${pattern}`),
      'UnauthorizedException', `bob subscribing to ${pattern}`);
  }
  // The refusals did not cost bob his socket: his own channel works on it.
  const own = inbox(bobSub, 'own');
  const ownCh = await bob.connect(own, USER_POOL);
  const s = await ownCh.subscribe(USER_POOL);
  await ownCh.publish({ bob: 'own' }, USER_POOL);
  assert.deepEqual(await s.take(1), [{ bob: 'own' }]);
  const { sockets } = await bob.log();
  assert.equal(sockets.filter((x) => x.openedAt).length, 1, 'one socket throughout');
});

check("another user's publish and post are refused; the owner gets nothing from them", async () => {
  const ch = inbox(aliceSub, 'target');
  const watch = await (await alice.connect(ch, USER_POOL)).subscribe(USER_POOL);
  const channel = await bob.connect(ch, USER_POOL);
  assertPublishRefused(await expectRejection(channel.publish({ from: 'bob' }, USER_POOL), "bob publishing to alice's channel"),
    'UnauthorizedException');
  assertPostRefused(await expectRejection(bob.post(ch, { from: 'bob' }, USER_POOL), "bob posting to alice's channel"),
    'UnauthorizedException');
  await alice.post(ch, { from: 'alice' }, USER_POOL);
  await watch.take(1);
  await sleep(300);
  assert.deepEqual(watch.events, [{ from: 'alice' }]);
});

check('API keys are refused in a namespace that allows only user-pool tokens', async () => {
  const ch = inbox(aliceSub, 'key');
  const channel = await keyed.connect(ch);
  await assertSubscribeRefused(await expectRejection(channel.subscribe(), 'API-key subscribe in users'), 'UnauthorizedException');
  assertPublishRefused(await expectRejection(channel.publish({ k: 1 }), 'API-key publish in users'), 'UnauthorizedException');
  assertPostRefused(await expectRejection(keyed.post(ch, { k: 1 }), 'API-key post in users'), 'UnauthorizedException');
});

check('group rule: everyone subscribes to /announce, only group admin publishes', async () => {
  const ch = `/announce/news-${randomHex(3)}`;
  const bobWatch = await (await bob.connect('/announce/*', USER_POOL)).subscribe(USER_POOL);
  const keyWatch = await (await keyed.connect(ch)).subscribe();
  const aliceCh = await alice.connect(ch, USER_POOL);
  await aliceCh.publish({ from: 'admin alice' }, USER_POOL);
  assert.equal(await alice.post(ch, { from: 'admin alice', via: 'post' }, USER_POOL), null);

  const bobCh = await bob.connect(ch, USER_POOL);
  assertPublishRefused(await expectRejection(bobCh.publish({ from: 'bob' }, USER_POOL), 'bob publishing to /announce'),
    'UnauthorizedException');
  assertPostRefused(await expectRejection(bob.post(ch, { from: 'bob' }, USER_POOL), 'bob posting to /announce'),
    'UnauthorizedException');
  assertPostRefused(await expectRejection(keyed.post(ch, { from: 'key' }), 'API key posting to /announce'),
    'UnauthorizedException');

  const want = [{ from: 'admin alice' }, { from: 'admin alice', via: 'post' }];
  assert.deepEqual(await bobWatch.take(2), want, 'bob (no group) receives on /announce/*');
  assert.deepEqual(await keyWatch.take(2), want, 'an API-key subscriber receives too');
  await sleep(300);
  assert.equal(bobWatch.received.length, 2, 'nothing from the refused publishers');
});
