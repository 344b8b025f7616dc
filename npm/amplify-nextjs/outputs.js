// Reading Cognate's amplify_outputs.json, on the server and in the browser.

import { parseAmplifyConfig } from 'aws-amplify/utils';

/**
 * What custom.cognate says (written by `cognate serve`), or undefined when
 * the outputs name another pool (Amazon Cognito).
 *
 * @param {any} outputs amplify_outputs.json
 * @returns {{ endpoint: string, issuer: string } | undefined}
 */
export function cognateOf(outputs) {
  const c = outputs?.custom?.cognate;
  if (c === undefined) return undefined;
  if (typeof c?.user_pool_endpoint !== 'string' || typeof c?.issuer !== 'string' || !outputs?.auth?.user_pool_id) {
    throw new Error('@cognate-auth/amplify-nextjs: amplify_outputs.json has custom.cognate without ' +
      'user_pool_endpoint and issuer, or no auth.user_pool_id: use the file `cognate serve` writes');
  }
  return { endpoint: c.user_pool_endpoint, issuer: c.issuer };
}

/**
 * The config to give Amplify: outputs themselves for any other pool, else
 * Amplify's parse of them with Auth.Cognito.userPoolEndpoint set (Amplify's
 * parser drops custom.cognate).
 *
 * @param {any} outputs amplify_outputs.json
 */
export function amplifyConfig(outputs) {
  const cognate = cognateOf(outputs);
  if (!cognate) return outputs;
  const config = parseAmplifyConfig(outputs);
  return {
    ...config,
    Auth: { ...config.Auth, Cognito: { ...config.Auth.Cognito, userPoolEndpoint: cognate.endpoint } },
  };
}
