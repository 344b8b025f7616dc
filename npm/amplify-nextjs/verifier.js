// The adapter checks every token it reads from cookies with
// aws-jwt-verify's CognitoJwtVerifier.create({ userPoolId, tokenUse,
// clientId }), which derives the issuer (and from it the key set) from the
// pool id: https://cognito-idp.<region>.amazonaws.com/<poolId>. For the pool
// ids registered here, and no others, it gets Cognate's issuer instead, and
// its key set is fetched with fetch (aws-jwt-verify's own Node fetcher
// speaks HTTPS only). Tokens of any other issuer are refused as before.

import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';

/** pool id → Cognate issuer */
const issuers = new Map();

const JWKS_TIMEOUT_MS = 5000;

/** aws-jwt-verify's JsonFetcher over fetch: http or https. */
const fetcher = {
  async fetch(uri) {
    const res = await fetch(uri, { signal: AbortSignal.timeout(JWKS_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (res.status !== 200) throw new Error(`GET ${uri}: ${res.status}`);
    return res.json();
  },
};

/**
 * From now on, verifiers of userPoolId expect exactly issuer, with its key
 * set at <issuer>/.well-known/jwks.json.
 *
 * @param {string} userPoolId
 * @param {string} issuer
 */
export function trustCognateIssuer(userPoolId, issuer) {
  if (issuers.size === 0) patch();
  issuers.set(userPoolId, issuer);
}

function patch() {
  const { parseUserPoolId, create } = CognitoJwtVerifier;
  if (typeof parseUserPoolId !== 'function' || typeof create !== 'function') {
    throw new Error('@cognate-auth/amplify-nextjs: aws-jwt-verify has no CognitoJwtVerifier.parseUserPoolId/create; ' +
      'it is tested with aws-jwt-verify 4');
  }
  CognitoJwtVerifier.parseUserPoolId = function cognateParseUserPoolId(userPoolId) {
    const parsed = parseUserPoolId.call(this, userPoolId); // validates the id as before
    const issuer = issuers.get(userPoolId);
    return issuer ? { issuer, jwksUri: `${issuer}/.well-known/jwks.json` } : parsed;
  };
  CognitoJwtVerifier.create = function cognateCreate(props, additional) {
    const ours = [props].flat().some((p) => issuers.has(p?.userPoolId));
    if (!ours || additional?.jwksCache) return create.call(this, props, additional);
    return create.call(this, props, { ...additional, jwksCache: new SimpleJwksCache({ fetcher }) });
  };
}
