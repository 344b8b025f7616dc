// The Node baseline of bench/session.sh: the per-request token check that
// @aws-amplify/adapter-nextjs makes (utils/createTokenValidator.ts and
// isValidCognitoToken.ts), without Next.js around it.
//
//   node server.mjs --addr 127.0.0.1:8081 --endpoint http://127.0.0.1:9229 --data ./cognate-data
//
// GET /mw reads the Cookie header, takes
// CognitoIdentityServiceProvider.<client>.LastAuthUser, then that user's
// accessToken and idToken cookies, verifies both with aws-jwt-verify
// (verifiers built once per process, as the adapter does since 1.3.1) and
// answers with the access token's username, or "anonymous". GET /bare
// answers "anonymous" without looking at the cookies.
//
// The adapter uses CognitoJwtVerifier, which derives issuer and JWKS URL
// from the pool id for AWS only; against Cognate the same checks are a
// JwtRsaVerifier with Cognate's issuer (<public-url>/<pool>) and
// <issuer>/.well-known/jwks.json, audience null and aws-jwt-verify's own
// validateCognitoJwtFields (token_use, and client_id or aud) — exactly
// what CognitoJwtVerifier runs after the signature. The JWKS is cached by
// aws-jwt-verify's SimpleJwksCache with its defaults; aws-jwt-verify does
// not cache verified tokens, so every request checks two RS256
// signatures. Its default fetcher speaks HTTPS only, so for an http://
// issuer the cache is given a fetcher that uses Node's fetch.

import http from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { JwtRsaVerifier } from "aws-jwt-verify";
import { validateCognitoJwtFields } from "aws-jwt-verify/cognito-verifier";
import { JwtExpiredError } from "aws-jwt-verify/error";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";

const { values: args } = parseArgs({
  options: {
    addr: { type: "string", default: "127.0.0.1:8081" },
    endpoint: { type: "string", default: "http://127.0.0.1:9229" },
    data: { type: "string" },
    pool: { type: "string" },
    client: { type: "string" },
  },
});

function poolAndClient() {
  let { pool, client } = args;
  if ((!pool || !client) && args.data) {
    const outputs = JSON.parse(readFileSync(join(args.data, "amplify_outputs.json"), "utf8"));
    pool ||= outputs.auth.user_pool_id;
    client ||= outputs.auth.user_pool_client_id;
  }
  if (!pool || !client) {
    throw new Error("--pool and --client, or --data, are required");
  }
  return { pool, client };
}

const { pool, client } = poolAndClient();
const issuer = `${args.endpoint.replace(/\/+$/, "")}/${pool}`;
const jwksUri = `${issuer}/.well-known/jwks.json`;

// httpFetcher is aws-jwt-verify's JsonFetcher interface over plain HTTP.
const httpFetcher = {
  async fetch(uri) {
    const res = await fetch(uri, { signal: AbortSignal.timeout(1500) });
    if (res.status !== 200) {
      throw new Error(`JWKS fetch ${uri}: HTTP ${res.status}`);
    }
    return res.json();
  },
};
const jwksCache = new SimpleJwksCache(jwksUri.startsWith("http:") ? { fetcher: httpFetcher } : undefined);

function cognitoVerifier(tokenUse) {
  return JwtRsaVerifier.create(
    {
      issuer,
      jwksUri,
      audience: null, // CognitoJwtVerifier checks client_id / aud below instead
      customJwtCheck: ({ payload }) => validateCognitoJwtFields(payload, { tokenUse, clientId: client }),
    },
    { jwksCache },
  );
}

const accessVerifier = cognitoVerifier("access");
const idVerifier = cognitoVerifier("id");

// isValidCognitoToken's rule: valid, or expired but otherwise valid (so
// that the adapter can refresh it).
async function isValid(verifier, token) {
  try {
    return await verifier.verify(token);
  } catch (err) {
    if (err instanceof JwtExpiredError) {
      return {};
    }
    return null;
  }
}

// parseCookies splits a Cookie header as Next.js's RequestCookies does:
// "; "-separated pairs, the value URI-decoded, the last duplicate wins.
function parseCookies(header) {
  const map = new Map();
  for (const pair of header.split(/; */)) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    if (eq === -1) {
      map.set(pair, "true");
      continue;
    }
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    try {
      map.set(name, decodeURIComponent(value));
    } catch {
      // A value that is not URI-encoded is skipped, as Next.js does.
    }
  }
  return map;
}

const prefix = `CognitoIdentityServiceProvider.${client}`;

// sessionUser is the signed-in username, or null.
async function sessionUser(header) {
  if (!header) return null;
  const cookies = parseCookies(header);
  const user = cookies.get(`${prefix}.LastAuthUser`);
  if (!user) return null;
  const access = cookies.get(`${prefix}.${user}.accessToken`);
  if (!access) return null;
  // The adapter's TokenStore reads (and so validates) the access token,
  // then the id token, one after the other.
  const claims = await isValid(accessVerifier, access);
  if (!claims) return null;
  const id = cookies.get(`${prefix}.${user}.idToken`);
  if (id && !(await isValid(idVerifier, id))) return null;
  return claims.username ?? user;
}

function answer(res, status, body) {
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.method !== "GET") {
    answer(res, 405, "method not allowed");
    return;
  }
  if (req.url === "/bare") {
    answer(res, 200, "anonymous");
    return;
  }
  if (req.url !== "/mw") {
    answer(res, 404, "not found");
    return;
  }
  sessionUser(req.headers.cookie).then(
    (name) => answer(res, 200, name ?? "anonymous"),
    () => answer(res, 500, "error"),
  );
});

const sep = args.addr.lastIndexOf(":");
const host = args.addr.slice(0, sep);
if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") {
  throw new Error(`--addr ${args.addr}: listen on loopback only`);
}
server.keepAliveTimeout = 65_000;
server.listen(Number(args.addr.slice(sep + 1)), host.replace(/^\[|\]$/g, ""));
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
