import { readFileSync } from 'node:fs';

import { createServerRunner } from '@cognate-auth/amplify-nextjs';

import bundled from '@/amplify_outputs.json';

// AMPLIFY_OUTPUTS, a path read at start, names another app client for the
// server than the bundled outputs (the browser's): with AMPLIFY_APP_ORIGIN,
// one allowed the code flow, whose auth.oauth createAuthRouteHandlers needs.
const outputs: typeof bundled = process.env.AMPLIFY_OUTPUTS
  ? JSON.parse(readFileSync(process.env.AMPLIFY_OUTPUTS, 'utf8'))
  : bundled;

// Drop-in for @aws-amplify/adapter-nextjs's createServerRunner, plus
// refreshInProxy, which refreshes a session whose access or id token expires
// within REFRESH_MARGIN_SECONDS (default 60).
export const { runWithAmplifyServerContext, createAuthRouteHandlers, refreshInProxy } = createServerRunner({
  config: outputs,
  margin: Number(process.env.REFRESH_MARGIN_SECONDS) || undefined,
});

// Cognate's Cognito JSON API (Amazon Cognito's regional endpoint otherwise).
export const userPoolEndpoint: string =
  (outputs as { custom?: { cognate?: { user_pool_endpoint: string } } }).custom?.cognate?.user_pool_endpoint ??
  `https://cognito-idp.${outputs.auth.aws_region}.amazonaws.com`;
