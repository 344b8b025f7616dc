// Lambda triggers as webhooks, driven by the real Amplify: a webhook server
// in this process (node:http) serves Lambda-style handlers through the
// dozen-line wrapper of docs/TRIGGERS.md (asWebhook, below, verbatim),
// with the pool's signing key from `cognate admin webhook-secret`. Covered:
// pre sign-up auto-confirm, a pre token generation V2 claim seen in
// fetchAuthSession, custom auth with CUSTOM_WITHOUT_SRP and CUSTOM_WITH_SRP
// through signIn / confirmSignIn, and the lazy migration of a user from a
// second `cognate serve` with USER_PASSWORD_AUTH, then an SRP sign-in,
// and a CustomMessage text whose code, read from the dev outbox, confirms
// a sign-up.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { confirmSignIn, confirmSignUp, fetchAuthSession, signIn, signOut, signUp } from 'aws-amplify/auth';
import {
  AdminCreateUserCommand, AdminGetUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient,
  CreateUserPoolClientCommand, InitiateAuthCommand, UpdateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import { cognateBinary } from '../../lib/cognate.mjs';
import {
  adminClient, configureAmplify, outboxSnapshot, scenario, startServer, strongPassword, uniqueEmail, waitForMessage,
} from './harness.mjs';

// --- docs/TRIGGERS.md: wrapping a Lambda handler as a webhook -------------
// Serves a Lambda trigger handler (async (event) => event) as a Cognate
// webhook: checks the signature and its age, answers the event or the error.
function asWebhook(handler, secret) {
  return async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks), ts = req.headers['x-cognate-timestamp'] ?? '';
    const want = Buffer.from('v1=' + createHmac('sha256', secret).update(`${ts}.`).update(body).digest('hex'));
    const got = Buffer.from(req.headers['x-cognate-signature'] ?? '');
    if (got.length !== want.length || !timingSafeEqual(got, want) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) {
      return res.writeHead(401).end();
    }
    try {
      const out = JSON.stringify(await handler(JSON.parse(body)));
      res.writeHead(200, { 'content-type': 'application/json' }).end(out);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errorType: err.name, errorMessage: err.message }));
    }
  };
}
// ---------------------------------------------------------------------------

let server; // the pool apps move to
let old; // the pool users come from
let hooks;
let hookURL;
let clientId;
const seen = [];
const step = scenario();

// Lambda-style handlers, as they would be deployed on AWS.
const handlers = {
  preSignUp: async (event) => {
    event.response.autoConfirmUser = true;
    event.response.autoVerifyEmail = true;
    return event;
  },
  preToken: async (event) => {
    event.response = {
      claimsAndScopeOverrideDetails: {
        idTokenGeneration: { claimsToAddOrOverride: { tenant: 'acme' } },
        accessTokenGeneration: { claimsToAddOrOverride: { tenant: 'acme' } },
      },
    };
    return event;
  },
  define: async (event) => {
    const s = event.request.session;
    const last = s.at(-1);
    if (s.length === 1 && last.challengeName === 'SRP_A') event.response.challengeName = 'PASSWORD_VERIFIER';
    else if (last?.challengeName === 'CUSTOM_CHALLENGE' && last.challengeResult) event.response.issueTokens = true;
    else if (s.filter((c) => c.challengeName === 'CUSTOM_CHALLENGE').length >= 3) event.response.failAuthentication = true;
    else event.response.challengeName = 'CUSTOM_CHALLENGE';
    return event;
  },
  create: async (event) => {
    event.response.publicChallengeParameters = { question: 'Which color is the sky?' };
    event.response.privateChallengeParameters = { answer: 'blue' };
    event.response.challengeMetadata = 'SKY';
    return event;
  },
  verify: async (event) => {
    event.response.answerCorrect = event.request.challengeAnswer === event.request.privateChallengeParameters.answer;
    return event;
  },
  // User migration: the password is checked against the old pool with
  // InitiateAuth, as a migration Lambda checks it against an old Cognito pool.
  migrate: async (event) => {
    const oldPool = new CognitoIdentityProviderClient({ endpoint: old.url, region: old.region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    if (event.triggerSource === 'UserMigration_Authentication') {
      await oldPool.send(new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH', ClientId: old.passwordClient,
        AuthParameters: { USERNAME: event.userName, PASSWORD: event.request.password },
      })).catch(() => { throw new Error('Bad password'); });
    }
    const user = await adminClient(old).send(new AdminGetUserCommand({ UserPoolId: old.poolId, Username: event.userName }))
      .catch(() => { throw new Error('User not found'); });
    const attrs = Object.fromEntries(user.UserAttributes.map((a) => [a.Name, a.Value]).filter(([k]) => k !== 'sub'));
    event.response.userAttributes = attrs;
    event.response.finalUserStatus = 'CONFIRMED';
    event.response.messageAction = 'SUPPRESS';
    return event;
  },
  customMessage: async (event) => {
    if (event.triggerSource === 'CustomMessage_SignUp') {
      event.response.emailSubject = 'Welcome to Acme';
      event.response.emailMessage = `Hello ${event.request.userAttributes.email},\nyour Acme code is ${event.request.codeParameter}.`;
    }
    return event;
  },
};

before(async () => {
  [server, old] = await Promise.all([startServer(), startServer()]);
  const dir = await mkdtemp(path.join(tmpdir(), 'cognate-triggers-'));
  const bin = await cognateBinary(dir);
  const { stdout } = await promisify(execFile)(bin, ['admin', '--data', server.dataDir, 'webhook-secret']);
  const secret = Buffer.from(stdout.trim(), 'base64');
  const routes = Object.fromEntries(Object.entries(handlers).map(([name, h]) => [`/${name}`, asWebhook(async (event) => {
    seen.push(event);
    return h(event);
  }, secret)]));
  hooks = createServer((req, res) => (routes[req.url] ?? ((_, r) => r.writeHead(404).end()))(req, res));
  await new Promise((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  hookURL = (name) => `http://127.0.0.1:${hooks.address().port}/${name}`;

  const admin = adminClient(server);
  await admin.send(new UpdateUserPoolCommand({
    UserPoolId: server.poolId, AutoVerifiedAttributes: ['email'],
    LambdaConfig: {
      PreSignUp: hookURL('preSignUp'), UserMigration: hookURL('migrate'),
      DefineAuthChallenge: hookURL('define'), CreateAuthChallenge: hookURL('create'), VerifyAuthChallengeResponse: hookURL('verify'),
      PreTokenGenerationConfig: { LambdaVersion: 'V2_0', LambdaArn: hookURL('preToken') },
    },
  }));
  const flows = ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'];
  clientId = (await admin.send(new CreateUserPoolClientCommand({ UserPoolId: server.poolId, ClientName: 'triggers', ExplicitAuthFlows: flows })))
    .UserPoolClient.ClientId;
  old.passwordClient = (await adminClient(old).send(new CreateUserPoolClientCommand({ UserPoolId: old.poolId, ClientName: 'migration', ExplicitAuthFlows: flows })))
    .UserPoolClient.ClientId;
  configureAmplify(server, { clientId });
});

after(async () => {
  hooks?.close();
  await Promise.all([server?.stop(), old?.stop()]);
});

const user = { email: uniqueEmail('triggers'), password: strongPassword() };

step('pre sign-up auto-confirms: signUp is done, no code to confirm', async () => {
  const out = await signUp({ username: user.email, password: user.password, options: { userAttributes: { email: user.email } } });
  assert.equal(out.isSignUpComplete, true, JSON.stringify(out));
  assert.equal(out.nextStep.signUpStep, 'DONE');
  const ev = seen.findLast((e) => e.triggerSource === 'PreSignUp_SignUp');
  assert.equal(ev.request.userAttributes.email, user.email);
  assert.equal(ev.callerContext.clientId, clientId);
});

step('pre token generation V2: fetchAuthSession sees the added claim in both tokens', async () => {
  const out = await signIn({ username: user.email, password: user.password });
  assert.equal(out.isSignedIn, true, JSON.stringify(out.nextStep));
  const { tokens } = await fetchAuthSession();
  assert.equal(tokens.idToken.payload.tenant, 'acme');
  assert.equal(tokens.accessToken.payload.tenant, 'acme');
  const ev = seen.findLast((e) => e.triggerSource === 'TokenGeneration_Authentication');
  assert.equal(ev.version, '2');
  assert.deepEqual(ev.request.scopes, ['aws.cognito.signin.user.admin']);
  await signOut();
});

step('custom auth, CUSTOM_WITHOUT_SRP: signIn, a wrong answer, then confirmSignIn with the right one', async () => {
  const out = await signIn({ username: user.email, options: { authFlowType: 'CUSTOM_WITHOUT_SRP' } });
  assert.equal(out.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
  assert.equal(out.nextStep.additionalInfo.question, 'Which color is the sky?');
  assert.equal(out.nextStep.additionalInfo.answer, undefined);
  const wrong = await confirmSignIn({ challengeResponse: 'green' });
  assert.equal(wrong.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
  const right = await confirmSignIn({ challengeResponse: 'blue' });
  assert.equal(right.isSignedIn, true);
  assert.equal((await fetchAuthSession()).tokens.idToken.payload.email, user.email);
  await signOut();
});

step('custom auth, CUSTOM_WITH_SRP: the password by SRP first, then the challenge', async () => {
  const out = await signIn({ username: user.email, password: user.password, options: { authFlowType: 'CUSTOM_WITH_SRP' } });
  assert.equal(out.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE', JSON.stringify(out.nextStep));
  const ev = seen.findLast((e) => e.triggerSource === 'CreateAuthChallenge_Authentication');
  assert.deepEqual(ev.request.session.map((c) => [c.challengeName, c.challengeResult]), [['SRP_A', true], ['PASSWORD_VERIFIER', true]]);
  const right = await confirmSignIn({ challengeResponse: 'blue' });
  assert.equal(right.isSignedIn, true);
  await signOut();
});

step('lazy migration from a second cognate serve: USER_PASSWORD_AUTH, then SRP', async () => {
  const mover = { email: uniqueEmail('mover'), password: strongPassword() };
  const oldAdmin = adminClient(old);
  await oldAdmin.send(new AdminCreateUserCommand({
    UserPoolId: old.poolId, Username: mover.email, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: mover.email }, { Name: 'email_verified', Value: 'true' }, { Name: 'name', Value: 'Mover' }],
  }));
  await oldAdmin.send(new AdminSetUserPasswordCommand({ UserPoolId: old.poolId, Username: mover.email, Password: mover.password, Permanent: true }));

  await assert.rejects(signIn({ username: mover.email, password: 'Wrong-Pw-1!', options: { authFlowType: 'USER_PASSWORD_AUTH' } }),
    (err) => err.name === 'NotAuthorizedException');
  const out = await signIn({ username: mover.email, password: mover.password, options: { authFlowType: 'USER_PASSWORD_AUTH' } });
  assert.equal(out.isSignedIn, true, JSON.stringify(out.nextStep));
  const { tokens } = await fetchAuthSession();
  assert.equal(tokens.idToken.payload.email, mover.email);
  assert.equal(tokens.idToken.payload.name, 'Mover');
  assert.equal(seen.findLast((e) => e.triggerSource === 'UserMigration_Authentication').userName, mover.email);
  await signOut();

  const migrations = seen.filter((e) => e.triggerSource.startsWith('UserMigration')).length;
  const srp = await signIn({ username: mover.email, password: mover.password });
  assert.equal(srp.isSignedIn, true);
  assert.equal(seen.filter((e) => e.triggerSource.startsWith('UserMigration')).length, migrations, 'the webhook was asked again');
  await signOut();
});

step('custom message: signUp sends the webhook\'s text, and its code from the outbox confirms the sign-up', async () => {
  // The pool now has only the CustomMessage trigger: no auto-confirm.
  await adminClient(server).send(new UpdateUserPoolCommand({
    UserPoolId: server.poolId, AutoVerifiedAttributes: ['email'], LambdaConfig: { CustomMessage: hookURL('customMessage') },
  }));
  const fresh = { email: uniqueEmail('custom'), password: strongPassword() };
  const before = await outboxSnapshot(server);
  const out = await signUp({ username: fresh.email, password: fresh.password, options: { userAttributes: { email: fresh.email } } });
  assert.equal(out.nextStep.signUpStep, 'CONFIRM_SIGN_UP', JSON.stringify(out));
  const ev = seen.findLast((e) => e.triggerSource === 'CustomMessage_SignUp');
  assert.equal(ev.request.codeParameter, '{####}');
  assert.equal(ev.callerContext.clientId, clientId);
  const msg = await waitForMessage(server, { destination: fresh.email, kind: 'sign_up', exclude: before });
  assert.equal(msg.subject, 'Welcome to Acme');
  assert.equal(msg.message, `Hello ${fresh.email},\nyour Acme code is ${msg.code}.`);
  const code = msg.message.match(/code is (\d+)\./)[1];
  const done = await confirmSignUp({ username: fresh.email, confirmationCode: code });
  assert.equal(done.isSignUpComplete, true);
  const signedIn = await signIn({ username: fresh.email, password: fresh.password });
  assert.equal(signedIn.isSignedIn, true);
  await signOut();
});
