import { fetchAuthSession } from 'aws-amplify/auth/server';
import { cookies } from 'next/headers';

import { runWithAmplifyServerContext } from '@/amplify-server';

/** The signed-in user's tokens in a Server Component or route handler; undefined when signed out. */
export async function currentTokens() {
  const session = await runWithAmplifyServerContext({
    nextServerContext: { cookies },
    operation: (ctx) => fetchAuthSession(ctx),
  });
  return session.tokens;
}
