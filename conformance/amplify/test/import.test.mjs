// Bulk import of existing users, as an operator runs it: a Cognito user
// import job through the real AWS SDK for JS v3 (GetCSVHeader,
// CreateUserImportJob, a PUT of the CSV to the PreSignedUrl,
// StartUserImportJob, DescribeUserImportJob until it succeeds), and users
// with password hashes imported by `cognate admin import-users`, who then
// sign in with their old passwords through the real Amplify, first with
// authFlowType USER_PASSWORD_AUTH (what apps use during a migration), then
// with SRP. The hashes are made here with Node's own crypto.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

import { signIn, signOut } from 'aws-amplify/auth';
import {
  AdminGetUserCommand,
  CreateUserImportJobCommand,
  DescribeUserImportJobCommand,
  GetCSVHeaderCommand,
  StartUserImportJobCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import { cognateBinary } from '../../lib/cognate.mjs';
import { adminClient, configureAmplify, expectSignInRefused, scenario, startServer, uniqueEmail } from './harness.mjs';

let server;
let admin;

before(async () => {
  server = await startServer();
  admin = adminClient(server);
  configureAmplify(server);
});

after(async () => {
  await server?.stop();
});

const step = scenario();
const job = {};

step('GetCSVHeader and CreateUserImportJob', async () => {
  const hdr = await admin.send(new GetCSVHeaderCommand({ UserPoolId: server.poolId }));
  assert.equal(hdr.CSVHeader.at(-1), 'cognito:username');
  assert.equal(hdr.CSVHeader.at(-2), 'cognito:mfa_enabled');
  job.header = hdr.CSVHeader;
  const out = await admin.send(new CreateUserImportJobCommand({
    UserPoolId: server.poolId, JobName: 'conformance', CloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/CognitoImport',
  }));
  assert.equal(out.UserImportJob.Status, 'Created');
  assert.match(out.UserImportJob.JobId, /^import-/);
  job.id = out.UserImportJob.JobId;
  job.url = out.UserImportJob.PreSignedUrl;
});

step('PUT the CSV to the PreSignedUrl', async () => {
  job.emails = [uniqueEmail('csv1'), uniqueEmail('csv2')];
  const rows = job.emails.map((email, i) => job.header.map((col) => ({
    'cognito:username': `csv-user-${i}`, email, email_verified: 'true', 'cognito:mfa_enabled': 'false', name: `CSV ${i}`,
  })[col] ?? '').join(','));
  rows.push(job.header.map((col) => ({ 'cognito:username': 'bad', email: 'not-an-email', email_verified: 'true', 'cognito:mfa_enabled': 'false' })[col] ?? '').join(','));
  const body = [job.header.join(','), ...rows].join('\n') + '\n';
  const forged = new URL(job.url);
  forged.searchParams.set('X-Cognate-Signature', '0'.repeat(64));
  assert.equal((await fetch(forged, { method: 'PUT', body })).status, 403);
  const res = await fetch(job.url, { method: 'PUT', body, headers: { 'Content-Type': 'text/csv' } });
  assert.equal(res.status, 200, await res.text());
});

step('StartUserImportJob, then DescribeUserImportJob until it succeeds', async () => {
  await admin.send(new StartUserImportJobCommand({ UserPoolId: server.poolId, JobId: job.id }));
  let j;
  for (let i = 0; i < 200; i++) {
    j = (await admin.send(new DescribeUserImportJobCommand({ UserPoolId: server.poolId, JobId: job.id }))).UserImportJob;
    if (j.Status === 'Succeeded' || j.Status === 'Failed') break;
    await sleep(100);
  }
  assert.equal(j.Status, 'Succeeded', j.CompletionMessage);
  assert.equal(j.ImportedUsers, 2);
  assert.equal(j.FailedUsers, 1);
  assert.match(j.CompletionMessage, /Row 4 \(bad\): Invalid email address format/);
});

step('imported users must reset their password', async () => {
  for (const email of job.emails) {
    const u = await admin.send(new AdminGetUserCommand({ UserPoolId: server.poolId, Username: email }));
    assert.equal(u.UserStatus, 'RESET_REQUIRED');
  }
  const out = await signIn({ username: job.emails[0], password: 'Any-Passw0rd-1' });
  assert.equal(out.nextStep.signInStep, 'RESET_PASSWORD');
});

const hashed = {};

step('cognate admin import-users with scrypt, PBKDF2 and Firebase scrypt hashes', async () => {
  const b64 = (b) => Buffer.from(b).toString('base64').replace(/=+$/, '');
  const salt = randomBytes(16);
  hashed.users = [
    {
      email: uniqueEmail('scrypt'), password: 'Scrypt-Old-Pw-1',
      hash: (pw) => `$scrypt$ln=14,r=8,p=1$${b64(salt)}$${b64(scryptSync(pw, salt, 32, { N: 1 << 14, r: 8, p: 1 }))}`,
    },
    {
      email: uniqueEmail('pbkdf2'), password: 'Pbkdf2-Old-Pw-1',
      hash: (pw) => `$pbkdf2-sha256$i=100000$${b64(salt)}$${b64(pbkdf2Sync(pw, salt, 100000, 32, 'sha256'))}`,
    },
    {
      // Firebase's published sample (github.com/firebase/scrypt).
      email: uniqueEmail('firebase'), password: 'user1password',
      hash: () => '$firebase-scrypt$r=8,m=14$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==',
    },
  ];
  const lines = hashed.users.map((u) => JSON.stringify({
    attributes: { email: u.email, email_verified: 'true' }, password_hash: u.hash(u.password),
  }));
  lines.push(JSON.stringify({ attributes: { email: uniqueEmail('md5') }, password_hash: '$1$salt$md5crypt' }));
  const dir = await mkdtemp(path.join(tmpdir(), 'cognate-import-'));
  const file = path.join(dir, 'users.jsonl');
  await writeFile(file, lines.join('\n') + '\n');
  const bin = await cognateBinary(dir);
  const run = (...args) => promisify(execFile)(bin, ['admin', '--data', server.dataDir, ...args]).then(
    (r) => ({ code: 0, ...r }), (err) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }));
  const first = await run('import-users', '--file', file);
  assert.equal(first.stdout, 'imported 3, skipped 0 (existed already), failed 1\n', first.stderr);
  assert.notEqual(first.code, 0);
  assert.match(first.stderr, /line 4 .*unknown hash format: algorithm "1"/);
  const again = await run('import-users', '--file', file, '--quiet');
  assert.equal(again.stdout, 'imported 0, skipped 3 (existed already), failed 1\n', again.stderr);
});

step('before their first password sign-in, SRP refuses them as not migrated', async () => {
  await expectSignInRefused(hashed.users[0].email, hashed.users[0].password);
});

step('they sign in with their old passwords through USER_PASSWORD_AUTH, then with SRP', async () => {
  for (const u of hashed.users) {
    await expectSignInRefused(u.email, 'Not-The-Old-Pw-1', { authFlowType: 'USER_PASSWORD_AUTH' });
    const first = await signIn({ username: u.email, password: u.password, options: { authFlowType: 'USER_PASSWORD_AUTH' } });
    assert.equal(first.isSignedIn, true, JSON.stringify(first.nextStep));
    await signOut();
    const srp = await signIn({ username: u.email, password: u.password });
    assert.equal(srp.isSignedIn, true, JSON.stringify(srp.nextStep));
    await signOut();
  }
});
