// One user's sign-in across three nodes on one PostgreSQL database, with
// the real Amplify v6 Auth client and the AWS SDK: the nodes bootstrap the
// empty database at the same moment and agree on the pool; sign-up on
// node 1, confirmation on node 2, an SRP sign-in whose two requests a
// round-robin proxy sends to different nodes, a refresh on node 3 that
// keeps the refresh token, then rotation turned on through node 1 and seen
// by node 3 within 5 s, global sign-out on node 1 seen by node 2 within 2 s. Then the OAuth code flow with PKCE: the managed
// login on node 1, the code redeemed on node 2, and the same code refused
// on node 3.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { Amplify } from 'aws-amplify';
import { confirmSignUp, fetchAuthSession, signIn, signOut, signUp } from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import { ConsoleLogger } from 'aws-amplify/utils';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  DescribeUserPoolClientCommand,
  GetTokensFromRefreshTokenCommand,
  GetUserCommand,
  ListUserPoolsCommand,
  UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import { outboxSnapshot, waitForMessage } from '../../lib/cognate.mjs';
import { Cluster, clip, servicesFor, steps, unique } from './cluster.mjs';
import { Browser, callsSince, claims, findForm, formatCalls, mark, pkce, tokenRequest } from './http.mjs';

// How soon another node sees a revocation, and an app client update
// (docs/SECURITY.md, "Caches are per process"), and what polling adds.
const REVOCATION_BOUND_MS = 2000;
const CLIENT_UPDATE_BOUND_MS = 5000;
const SLACK_MS = 750;

const PASSWORD = 'Correct-Horse-9!';
const CALLBACK = 'https://rp.example/callback';

// Not the warning about a custom endpoint at every configure.
ConsoleLogger.LOG_LEVEL = 'ERROR';

const skip = await servicesFor(['PostgreSQL', 'NATS']);

let cluster;
let nodes;
const s = {};

const step = steps(skip, {
  begin: mark,
  diagnose: (t, begun) => {
    for (const line of formatCalls(callsSince(begun)).split('\n')) t.diagnostic(line);
    if (cluster?.proxy) t.diagnostic(`proxy log (last 10): ${clip(cluster.proxy.log.slice(-10))}`);
    cluster?.diagnose(t);
  },
});

before(async () => {
  if (!skip) cluster = await Cluster.create({ name: 'auth' });
});

after(async () => {
  await cluster?.close();
});

// ---------------------------------------------------------------------------
// clients
// ---------------------------------------------------------------------------

/** Amplify's token store, kept in memory so the steps can read it. */
class MemoryStore {
  constructor() {
    this.map = new Map();
  }

  async setItem(k, v) {
    this.map.set(k, v);
  }

  async getItem(k) {
    return this.map.get(k) ?? null;
  }

  async removeItem(k) {
    this.map.delete(k);
  }

  async clear() {
    this.map.clear();
  }

  refreshToken() {
    for (const [k, v] of this.map) if (k.endsWith('.refreshToken')) return v;
    return null;
  }
}

const store = new MemoryStore();

/** Points the Amplify singleton at endpoint (a node or the proxy), keeping its tokens. */
function amplifyAt(endpoint) {
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: nodes[0].poolId,
        userPoolClientId: nodes[0].clientId,
        userPoolEndpoint: endpoint,
        loginWith: { email: true },
      },
    },
  });
  // configure installs Amplify's default store again: set ours after it.
  cognitoUserPoolsTokenProvider.setKeyValueStorage(store);
}

const sdk = (node, credentials) => new CognitoIdentityProviderClient({
  endpoint: node.http, region: node.region, maxAttempts: 1, ...(credentials ? { credentials } : {}),
});
const admin = (node) => sdk(node, cluster.admin);

/** The Cognito calls since m, each of which must have gone to node and succeeded. */
function assertCallsTo(m, node, ops) {
  const list = callsSince(m);
  assert.deepEqual(list.map((c) => c.op), ops, `Amplify's calls: ${formatCalls(list)}`);
  for (const c of list) {
    assert.equal(c.origin, node.http, `${c.op} went to node ${node.n}`);
    assert.equal(c.status, 200, `${c.op} -> ${c.status} ${clip(c.response)}`);
  }
}

async function getUserError(node, accessToken) {
  try {
    await sdk(node).send(new GetUserCommand({ AccessToken: accessToken }));
    return null;
  } catch (err) {
    return err;
  }
}

// ---------------------------------------------------------------------------
// the cluster
// ---------------------------------------------------------------------------

step('three nodes started at once on the empty database agree on the pool and its app client', async (t) => {
  const t0 = Date.now();
  nodes = await cluster.start('nats');
  t.diagnostic(`3 nodes healthy ${Date.now() - t0} ms after the concurrent start (database ${cluster.db.name})`);
  const seen = nodes.map((n) => `node ${n.n}: pool ${n.poolId} client ${n.clientId}`).join('; ');
  for (const n of nodes.slice(1)) {
    assert.equal(n.poolId, nodes[0].poolId, `amplify_outputs.json user_pool_id differs: ${seen}`);
    assert.equal(n.clientId, nodes[0].clientId, `amplify_outputs.json user_pool_client_id differs: ${seen}`);
  }
  const { UserPools: pools } = await admin(nodes[1]).send(new ListUserPoolsCommand({ MaxResults: 60 }));
  assert.deepEqual(pools.map((p) => p.Id), [nodes[0].poolId], 'the database holds exactly one pool');
  // No ListUserPoolClients in Cognate's API: count the rows themselves.
  const rows = await cluster.db.query('SELECT (SELECT count(*) FROM pools), (SELECT count(*) FROM clients)');
  assert.deepEqual(rows, [['1', '1']], 'the database holds one pool and one app client (pools, clients rows)');
});

step('an OAuth code-flow app client is created on node 2', async () => {
  const { UserPoolClient: c } = await admin(nodes[1]).send(new CreateUserPoolClientCommand({
    UserPoolId: nodes[0].poolId,
    ClientName: `rp-${unique(3)}`,
    GenerateSecret: false,
    AllowedOAuthFlowsUserPoolClient: true,
    AllowedOAuthFlows: ['code'],
    AllowedOAuthScopes: ['openid', 'email', 'profile'],
    CallbackURLs: [CALLBACK],
    SupportedIdentityProviders: ['COGNITO'],
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }));
  assert.ok(c?.ClientId, 'CreateUserPoolClient returned a client id');
  s.rp = c.ClientId;
});

// ---------------------------------------------------------------------------
// Amplify Auth
// ---------------------------------------------------------------------------

step('signUp on node 1 queues a code that node 2\'s dev outbox shows', async () => {
  s.email = `mn-${unique(4)}@example.com`;
  const outboxAt = { http: nodes[1].http, dataDir: nodes[1].dataDir };
  const before = await outboxSnapshot(outboxAt);
  amplifyAt(nodes[0].http);
  const m = mark();
  const r = await signUp({ username: s.email, password: PASSWORD, options: { userAttributes: { email: s.email } } });
  assert.equal(r.nextStep?.signUpStep, 'CONFIRM_SIGN_UP', `signUp result ${clip(r)}`);
  assertCallsTo(m, nodes[0], ['SignUp']);
  s.sub = r.userId;
  const msg = await waitForMessage(outboxAt, { destination: s.email, kind: 'sign_up', exclude: before });
  assert.ok(msg.code, `the outbox entry has a code: ${clip(msg)}`);
  s.code = msg.code;
});

step('confirmSignUp on node 2 confirms the user (AdminGetUser on node 3)', async () => {
  amplifyAt(nodes[1].http);
  const m = mark();
  const r = await confirmSignUp({ username: s.email, confirmationCode: s.code });
  assert.equal(r.isSignUpComplete, true, `confirmSignUp result ${clip(r)}`);
  assertCallsTo(m, nodes[1], ['ConfirmSignUp']);
  const u = await admin(nodes[2]).send(new AdminGetUserCommand({ UserPoolId: nodes[0].poolId, Username: s.email }));
  assert.equal(u.UserStatus, 'CONFIRMED');
  assert.equal(u.Username, s.sub);
});

step('an SRP sign-in through the round-robin proxy: InitiateAuth and RespondToAuthChallenge on different nodes', async (t) => {
  amplifyAt(cluster.publicURL);
  const pm = cluster.proxy.mark();
  const m = mark();
  const r = await signIn({ username: s.email, password: PASSWORD });
  assert.equal(r.isSignedIn, true, `signIn result ${clip(r)}`);
  const ops = callsSince(m).map((c) => `${c.op} ${c.status}`);
  assert.deepEqual(ops, ['InitiateAuth 200', 'RespondToAuthChallenge 200'], `Amplify's calls: ${formatCalls(callsSince(m))}`);
  const hops = cluster.proxy.since(pm);
  const init = hops.filter((h) => h.op === 'InitiateAuth');
  const answer = hops.filter((h) => h.op === 'RespondToAuthChallenge');
  assert.equal(init.length, 1, `proxy log ${clip(hops)}`);
  assert.equal(answer.length, 1, `proxy log ${clip(hops)}`);
  assert.notEqual(init[0].node, answer[0].node, `both SRP steps went to node ${init[0].node + 1}: ${clip(hops)}`);
  t.diagnostic(`InitiateAuth on node ${init[0].node + 1}, RespondToAuthChallenge on node ${answer[0].node + 1}`);
  const session = await fetchAuthSession();
  s.access = session.tokens.accessToken.toString();
  s.refresh = store.refreshToken();
  assert.ok(s.refresh, 'Amplify stored a refresh token');
  const c = claims(s.access);
  assert.equal(c.sub, s.sub);
  assert.equal(c.iss, `${cluster.publicURL}/${nodes[0].poolId}`, 'the issuer is the public URL, whichever node signed');
});

step('every node accepts the access token (GetUser)', async () => {
  for (const n of nodes) {
    const u = await sdk(n).send(new GetUserCommand({ AccessToken: s.access }));
    assert.equal(u.Username, s.sub, `GetUser on node ${n.n}`);
  }
});

step('without rotation, fetchAuthSession({forceRefresh}) on node 3 keeps the refresh token', async () => {
  amplifyAt(nodes[2].http);
  const m = mark();
  const session = await fetchAuthSession({ forceRefresh: true });
  assert.ok(session.tokens?.accessToken, 'the refresh gave tokens');
  assertCallsTo(m, nodes[2], ['GetTokensFromRefreshToken']);
  assert.equal(store.refreshToken(), s.refresh, 'the web client does not rotate by default');
  s.access = session.tokens.accessToken.toString();
});

step('rotation is turned on for the web client with UpdateUserPoolClient on node 1 (shared admin credentials)', async () => {
  const ids = { UserPoolId: nodes[0].poolId, ClientId: nodes[0].clientId };
  const { UserPoolClient: c } = await admin(nodes[0]).send(new DescribeUserPoolClientCommand(ids));
  assert.equal(c.RefreshTokenRotation?.Feature ?? 'DISABLED', 'DISABLED', 'the web client starts without rotation');
  // UpdateUserPoolClient resets what it is not given: send the client back whole.
  const keep = ['ClientName', 'RefreshTokenValidity', 'AccessTokenValidity', 'IdTokenValidity', 'TokenValidityUnits',
    'ReadAttributes', 'WriteAttributes', 'ExplicitAuthFlows', 'SupportedIdentityProviders', 'CallbackURLs', 'LogoutURLs',
    'DefaultRedirectURI', 'AllowedOAuthFlows', 'AllowedOAuthScopes', 'AllowedOAuthFlowsUserPoolClient',
    'PreventUserExistenceErrors', 'EnableTokenRevocation', 'AuthSessionValidity'];
  const update = { ...ids, RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 0 } };
  for (const k of keep) if (c[k] !== undefined) update[k] = c[k];
  await admin(nodes[0]).send(new UpdateUserPoolClientCommand(update));
  s.rotationOnAt = Date.now();
});

step('node 3, whose cached client had no rotation, rotates the refresh token within the documented 5 s', async (t) => {
  amplifyAt(nodes[2].http);
  const m = mark();
  const deadline = s.rotationOnAt + CLIENT_UPDATE_BOUND_MS + SLACK_MS;
  let attempts = 0;
  let lastKept = null; // when the last refresh that kept the token was sent
  let sentAt;
  for (;;) {
    attempts++;
    sentAt = Date.now() - s.rotationOnAt;
    const session = await fetchAuthSession({ forceRefresh: true });
    assert.ok(session.tokens?.accessToken, 'the refresh gave tokens');
    if (store.refreshToken() !== s.refresh) break;
    lastKept = sentAt;
    if (Date.now() > deadline) {
      assert.fail(`no new refresh token from node 3 within ${CLIENT_UPDATE_BOUND_MS} ms of turning rotation on through node 1 ` +
        `(${attempts} refreshes)`);
    }
    await sleep(250);
  }
  const refreshes = callsSince(m);
  for (const c of refreshes) {
    assert.equal(c.op, 'GetTokensFromRefreshToken', formatCalls(refreshes));
    assert.equal(c.origin, nodes[2].http, `${c.op} went to node 3`);
    assert.equal(c.status, 200, formatCalls([c]));
  }
  t.diagnostic(`node 3 rotated on refresh ${attempts}, ${Date.now() - s.rotationOnAt} ms after UpdateUserPoolClient on node 1 ` +
    `returned (the last refresh that kept the token was sent at ${lastKept ?? '-'} ms, the rotating one at ${sentAt} ms)`);
  const session = await fetchAuthSession();
  s.access = session.tokens.accessToken.toString();
  s.refresh = store.refreshToken();
  assert.equal((await sdk(nodes[0]).send(new GetUserCommand({ AccessToken: s.access }))).Username, s.sub,
    'node 1 accepts the access token node 3 issued');
});

step('global sign-out on node 1: node 2 refuses the old access token within the documented 2 s', async (t) => {
  // Node 2 has verified the token (and cached what it learnt) just before.
  assert.equal(await getUserError(nodes[1], s.access), null, 'node 2 accepts the token before the sign-out');
  amplifyAt(nodes[0].http);
  const m = mark();
  await signOut({ global: true });
  const signedOutAt = Date.now();
  assertCallsTo(m, nodes[0], ['GlobalSignOut']);
  let err;
  let polls = 0;
  let lastAccepted = null; // when the last GetUser that was still accepted was sent
  let sentAt;
  while (Date.now() - signedOutAt < 5000) {
    polls++;
    sentAt = Date.now() - signedOutAt;
    err = await getUserError(nodes[1], s.access);
    if (err) break;
    lastAccepted = sentAt;
    await sleep(100);
  }
  const took = Date.now() - signedOutAt;
  t.diagnostic(`node 2 refused the access token ${took} ms after GlobalSignOut on node 1 returned ` +
    `(${polls} GetUser calls; the last one accepted was sent at ${lastAccepted ?? '-'} ms, the refused one at ${sentAt} ms)`);
  assert.ok(err, `node 2 still accepted the access token 5 s after GlobalSignOut on node 1`);
  assert.equal(err.name, 'NotAuthorizedException', `GetUser on node 2: ${err.name}: ${err.message}`);
  assert.ok(took <= REVOCATION_BOUND_MS + SLACK_MS, `node 2 took ${took} ms, the docs say ${REVOCATION_BOUND_MS} ms`);
});

step('after the global sign-out node 3 refuses the refresh token and node 1 the access token', async () => {
  const err = await sdk(nodes[2]).send(new GetTokensFromRefreshTokenCommand({
    ClientId: nodes[0].clientId, RefreshToken: s.refresh,
  })).then(() => null, (e) => e);
  assert.equal(err?.name, 'NotAuthorizedException', `GetTokensFromRefreshToken on node 3: ${err?.name ?? 'accepted'}`);
  const err1 = await getUserError(nodes[0], s.access);
  assert.equal(err1?.name, 'NotAuthorizedException', `GetUser on node 1: ${err1?.name ?? 'accepted'}`);
}, { soft: true });

// ---------------------------------------------------------------------------
// OAuth: authorize on node 1, redeem on node 2, replay on node 3
// ---------------------------------------------------------------------------

step('the managed login on node 1 (PKCE, CSRF form) redirects to the callback with a code', async () => {
  s.pkce = pkce();
  s.state = unique(8);
  s.nonce = unique(8);
  const q = new URLSearchParams({
    response_type: 'code', client_id: s.rp, redirect_uri: CALLBACK, scope: 'openid email profile',
    state: s.state, nonce: s.nonce, code_challenge: s.pkce.challenge, code_challenge_method: 'S256',
  });
  const browser = new Browser({ sameSite: [cluster.publicURL] });
  const page = await browser.request(nodes[0].http, 'GET', `/oauth2/authorize?${q}`);
  assert.equal(page.status, 200, `the authorize request lands on the login page: ${clip(page)}`);
  assert.equal(new URL(page.url).pathname, '/login', `landed at ${page.url}`);
  const form = findForm(page.body, page.url, 'signin');
  assert.ok(form.fields.has('csrf_token'), 'the login form carries a CSRF token');
  form.fields.set('username', s.email);
  form.fields.set('password', PASSWORD);
  const done = await browser.request(nodes[0].http, 'POST', form.action, { form: form.fields });
  assert.ok(done.callback, `the login ends at the callback: ${clip({ status: done.status, url: done.url, body: done.body, hops: done.hops })}`);
  assert.equal(`${done.callback.origin}${done.callback.pathname}`, CALLBACK);
  assert.equal(done.callback.searchParams.get('error'), null, `callback ${done.callback}`);
  assert.equal(done.callback.searchParams.get('state'), s.state);
  s.code = done.callback.searchParams.get('code');
  assert.ok(s.code, `callback ${done.callback} has a code`);
});

step('node 2 redeems the code (POST /oauth2/token with the PKCE verifier)', async () => {
  const r = await tokenRequest(nodes[1], {
    grant_type: 'authorization_code', client_id: s.rp, code: s.code, redirect_uri: CALLBACK,
    code_verifier: s.pkce.verifier,
  });
  assert.equal(r.status, 200, `POST /oauth2/token on node 2 -> ${r.status} ${clip(r.body)}`);
  assert.equal(r.body.token_type, 'Bearer');
  for (const k of ['access_token', 'id_token', 'refresh_token']) assert.ok(r.body[k], `${k} in ${clip(r.body)}`);
  const id = claims(r.body.id_token);
  assert.equal(id.aud, s.rp);
  assert.equal(id.sub, s.sub);
  assert.equal(id.email, s.email);
  assert.equal(id.nonce, s.nonce);
  assert.equal(id.iss, `${cluster.publicURL}/${nodes[0].poolId}`);
  const access = claims(r.body.access_token);
  assert.equal(access.client_id, s.rp);
  assert.equal(access.token_use, 'access');
  s.oauthAccess = r.body.access_token;
});

step('node 3 answers /oauth2/userInfo for the access token node 2 issued', async () => {
  const res = await fetch(`${nodes[2].http}/oauth2/userInfo`, { headers: { authorization: `Bearer ${s.oauthAccess}` } });
  const body = await res.text();
  assert.equal(res.status, 200, `GET /oauth2/userInfo on node 3 -> ${res.status} ${body}`);
  const info = JSON.parse(body);
  assert.equal(info.sub, s.sub);
  assert.equal(info.email, s.email);
}, { soft: true });

step('node 3 refuses the same code again (invalid_grant)', async () => {
  const r = await tokenRequest(nodes[2], {
    grant_type: 'authorization_code', client_id: s.rp, code: s.code, redirect_uri: CALLBACK,
    code_verifier: s.pkce.verifier,
  });
  assert.equal(r.status, 400, `the second redemption on node 3 -> ${r.status} ${clip(r.body)}`);
  assert.equal(r.body.error, 'invalid_grant', clip(r.body));
});

step('after the replay on node 3, node 1 refuses the access token the code bought (RFC 6749 4.1.2: revoked)', async () => {
  const deadline = Date.now() + REVOCATION_BOUND_MS + SLACK_MS;
  let status;
  do {
    const res = await fetch(`${nodes[0].http}/oauth2/userInfo`, { headers: { authorization: `Bearer ${s.oauthAccess}` } });
    status = res.status;
    await res.arrayBuffer();
    if (status === 401) return;
    await sleep(100);
  } while (Date.now() < deadline);
  assert.equal(status, 401, 'GET /oauth2/userInfo on node 1 with the access token of the replayed code');
}, { soft: true });

step('a login form node 2 served is accepted by node 3 (the CSRF key and the request are the cluster\'s)', async () => {
  const { challenge } = pkce();
  const q = new URLSearchParams({
    response_type: 'code', client_id: s.rp, redirect_uri: CALLBACK, scope: 'openid',
    state: 'x', code_challenge: challenge, code_challenge_method: 'S256',
  });
  const browser = new Browser({ sameSite: [cluster.publicURL] });
  const page = await browser.request(nodes[1].http, 'GET', `/oauth2/authorize?${q}`);
  assert.equal(page.status, 200, clip(page));
  const form = findForm(page.body, page.url, 'signin');
  form.fields.set('username', s.email);
  form.fields.set('password', PASSWORD);
  const done = await browser.request(nodes[2].http, 'POST', form.action, { form: form.fields, origin: cluster.publicURL });
  assert.ok(done.callback?.searchParams.get('code'), `node 3 took node 2's form: ${clip({ status: done.status, body: done.body, hops: done.hops })}`);
}, { soft: true });
