// @cognate-auth/amplify-nextjs: @aws-amplify/adapter-nextjs against a
// Cognate user pool. Server side; the browser side is ./client.js.

import { createServerRunner as createAdapterRunner } from '@aws-amplify/adapter-nextjs';
import adapterPackage from '@aws-amplify/adapter-nextjs/package.json' with { type: 'json' };

import { amplifyConfig, cognateOf } from './outputs.js';
import { createRefreshInProxy } from './proxy.js';
import { trustCognateIssuer } from './verifier.js';
import { assertTestedAdapter } from './version.js';

export { DEFAULT_MARGIN_SECONDS } from './proxy.js';

/**
 * The adapter's createServerRunner, plus refreshInProxy for proxy.ts. When
 * config is amplify_outputs.json written by `cognate serve` (it has
 * custom.cognate), Amplify gets Cognate's userPoolEndpoint and the adapter's
 * token checks expect Cognate's issuer for that pool id; for any other
 * config the adapter runs exactly as it would alone.
 *
 * @param {{ config: any, runtimeOptions?: any, margin?: number }} input
 */
export function createServerRunner({ config, runtimeOptions, margin }) {
  assertTestedAdapter(adapterPackage.version);
  const cognate = cognateOf(config);
  if (cognate) trustCognateIssuer(config.auth.user_pool_id, cognate.issuer);
  const runner = createAdapterRunner({ config: amplifyConfig(config), runtimeOptions });
  const clientId = config?.auth?.user_pool_client_id ?? config?.Auth?.Cognito?.userPoolClientId;
  return {
    ...runner,
    refreshInProxy: createRefreshInProxy({ runWithAmplifyServerContext: runner.runWithAmplifyServerContext, clientId, margin }),
  };
}
