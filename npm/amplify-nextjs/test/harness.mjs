// A real `cognate serve` (COGNATE_BIN, else built from this repository) and
// a user signed up and in with the real aws-amplify in Node, whose stored
// tokens become the cookies a browser would send.

import { Amplify } from 'aws-amplify';
import { confirmSignUp, signIn, signUp } from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import { NextRequest } from 'next/server.js';

import { outboxSnapshot, startCognate, waitForMessage } from '../../../conformance/lib/cognate.mjs';
import { configureAmplify } from '../client.js';

export const PASSWORD = 'Correct-Horse-9';

/** `cognate serve` on a free port, issuing under http://localhost:<port>, with args; and its outputs. */
export async function startServer(args = []) {
  const cognate = await startCognate({
    name: 'amplify-nextjs',
    args: ([port]) => ['--public-url', `http://localhost:${port}`, '--tls-addr', 'off', ...args],
  });
  const outputs = await cognate.waitForJson('amplify_outputs.json');
  return { cognate, outputs };
}

/**
 * Signs a new user up (code from the dev outbox) and in (SRP) with Amplify
 * configured by configureAmplify, and returns { email, storage } where
 * storage maps Amplify's keys to what it stored.
 */
export async function signedInUser({ cognate, outputs }) {
  configureAmplify(outputs, { ssr: false });
  const storage = new Map();
  cognitoUserPoolsTokenProvider.setKeyValueStorage({
    setItem: async (k, v) => void storage.set(k, v),
    getItem: async (k) => storage.get(k) ?? null,
    removeItem: async (k) => void storage.delete(k),
    clear: async () => storage.clear(),
  });
  const email = `u${Date.now()}${Math.floor(Math.random() * 1e6)}@example.com`;
  const before = await outboxSnapshot(cognate);
  await signUp({ username: email, password: PASSWORD });
  const { code } = await waitForMessage(cognate, { destination: email, kind: 'sign_up', exclude: before });
  await confirmSignUp({ username: email, confirmationCode: code });
  const out = await signIn({ username: email, password: PASSWORD });
  if (!out.isSignedIn) throw new Error(`signIn: ${JSON.stringify(out)}`);
  if (Amplify.getConfig().Auth.Cognito.userPoolEndpoint !== outputs.custom.cognate.user_pool_endpoint) {
    throw new Error('configureAmplify did not set the endpoint');
  }
  return { email, storage };
}

/** The Cookie header a browser would send for Amplify's stored keys (js-cookie encodes names and values). */
export function cookieHeader(storage) {
  return [...storage].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('; ');
}

/** A NextRequest to the app carrying cookie. */
export function appRequest(cookie, path = '/') {
  return new NextRequest(`http://localhost:3000${path}`, { headers: cookie ? { cookie } : {} });
}

/** The key of Amplify's stored item k (accessToken, idToken, ...) for the signed-in user. */
export function keyOf(storage, k) {
  const key = [...storage.keys()].find((x) => x.endsWith(`.${k}`));
  if (!key) throw new Error(`no ${k} in ${[...storage.keys()]}`);
  return key;
}

export function decodeJwt(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}
