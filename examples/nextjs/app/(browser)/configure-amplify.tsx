'use client';

import { configureAmplify } from '@cognate-auth/amplify-nextjs/client';

import outputs from '@/amplify_outputs.json';

// Amplify in the browser, with Cognate's endpoint and tokens in cookies (ssr).
configureAmplify(outputs);

export default function ConfigureAmplify() {
  return null;
}
