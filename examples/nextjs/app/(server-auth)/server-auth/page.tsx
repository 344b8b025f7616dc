import { getCurrentUser } from 'aws-amplify/auth/server';
import { cookies } from 'next/headers';

import { runWithAmplifyServerContext } from '@/amplify-server';

// A Server Component on the HttpOnly cookies of /api/auth/sign-in.
export default async function ServerAuth() {
  const user = await runWithAmplifyServerContext({
    nextServerContext: { cookies },
    operation: (ctx) => getCurrentUser(ctx).catch(() => undefined),
  });
  if (!user) {
    return (
      <p>
        <span data-testid="server-user">Signed out.</span> <a href="/api/auth/sign-in">Sign in</a>
      </p>
    );
  }
  return (
    <p>
      <span data-testid="server-user">{user.username}</span> (<span data-testid="server-sub">{user.userId}</span>){' '}
      <a href="/api/auth/sign-out">Sign out</a>
    </p>
  );
}
