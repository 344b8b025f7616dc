import { createServerRunner } from '@cognate-auth/amplify-nextjs';

import outputs from '@/amplify_outputs.json';

// Drop-in for @aws-amplify/adapter-nextjs's createServerRunner, plus
// refreshInProxy, which refreshes a session whose access or id token expires
// within REFRESH_MARGIN_SECONDS (default 60).
export const { runWithAmplifyServerContext, refreshInProxy } = createServerRunner({
  config: outputs,
  margin: Number(process.env.REFRESH_MARGIN_SECONDS) || undefined,
});

// Cognate's Cognito JSON API (Amazon Cognito's regional endpoint otherwise).
export const userPoolEndpoint: string =
  (outputs as { custom?: { cognate?: { user_pool_endpoint: string } } }).custom?.cognate?.user_pool_endpoint ??
  `https://cognito-idp.${outputs.auth.aws_region}.amazonaws.com`;
