// The demo's account-security page (/account/security) in Chromium with a
// CDP virtual authenticator: signed in through the demo's password page,
// the user sets up an authenticator app (the code computed here, RFC 6238
// SHA-1, 30 s, 6 digits), adds a passkey (StartWebAuthnRegistration,
// navigator.credentials.create, CompleteWebAuthnRegistration through the
// session library's Account), sees it listed and removes it.

import { createHmac } from 'node:crypto';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  SetUserPoolMfaConfigCommand, UpdateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  PASSWORD, adminClient, createUser, scenario, screenshotPrefix, shot, visibleErrors,
} from './harness.mjs';
import { openDemo, passwordSignIn, submit } from './demo.mjs';

screenshotPrefix('demo-security');

const EMAIL = 'sec-user@example.com';
const SECURITY = '/account/security';

let opened;
let server;
let demo;
let page;
let cdp;
let authenticatorId;

/** The current RFC 6238 code (SHA-1, 30 s steps, 6 digits) of a base32 secret. */
function totpCode(secret, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

before(async () => {
  opened = await openDemo();
  ({ server, demo, page } = opened);
  const admin = adminClient(server);
  const UserPoolId = server.outputs.auth.user_pool_id;
  await admin.send(new UpdateUserPoolCommand({
    UserPoolId, AutoVerifiedAttributes: ['email'],
    Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'WEB_AUTHN'] } },
  }));
  await admin.send(new SetUserPoolMfaConfigCommand({
    UserPoolId, MfaConfiguration: 'OPTIONAL', SoftwareTokenMfaConfiguration: { Enabled: true },
  }));
  await createUser(server, EMAIL, PASSWORD);
});

after(() => opened?.close());

const step = scenario({ pages: () => [page], server: () => server });

/** Asserts the page shows no error and the notice names what was done. */
async function expectDone(done) {
  assert.deepEqual(await visibleErrors(page), [], 'errors on the page');
  const url = new URL(page.url());
  assert.equal(url.pathname, SECURITY);
  assert.equal(url.searchParams.get('done'), done);
}

step('sign in on the demo password page, onto the account-security page', async () => {
  await passwordSignIn(page, demo, { email: EMAIL, password: PASSWORD, redirect: SECURITY });
  assert.equal(await page.locator('[data-testid=passkey-none]').count(), 1);
  assert.equal(await page.getAttribute('[data-testid=totp]', 'data-enabled'), 'false');
  await shot(page, 'security');
});

step('set up an authenticator app from the secret shown', async () => {
  await submit(page, '[data-testid=totp-start]');
  const secret = (await page.textContent('[data-testid=totp-secret]')).trim();
  assert.match(secret, /^[A-Z2-7]+=*$/);
  await page.fill('[data-testid=totp-code]', totpCode(secret));
  await submit(page, '[data-testid=totp-verify]');
  await expectDone('totp');
  assert.equal(await page.locator('[data-testid=totp-on]').count(), 1);
  await shot(page, 'totp-on');
});

step('add a passkey with a CDP virtual authenticator, and see it listed', async () => {
  cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  }));
  await submit(page, '[data-testid=passkey-add]');
  await expectDone('passkey');
  const items = page.locator('[data-testid=passkey]');
  assert.equal(await items.count(), 1);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(await items.first().getAttribute('data-id'), Buffer.from(credentials[0].credentialId, 'base64').toString('base64url'));
  await shot(page, 'passkey-listed');
});

step('remove the passkey', async () => {
  await submit(page, '[data-testid=passkey-remove]');
  await expectDone('passkey-removed');
  assert.equal(await page.locator('[data-testid=passkey]').count(), 0);
  assert.equal(await page.locator('[data-testid=passkey-none]').count(), 1);
});
