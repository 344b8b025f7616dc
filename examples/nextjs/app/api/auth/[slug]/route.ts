import type { NextRequest } from 'next/server';

import { createAuthRouteHandlers } from '@/amplify-server';

// Server-side auth through the managed login: /api/auth/sign-in, sign-up,
// sign-in-callback, sign-out, sign-out-callback, with HttpOnly token cookies.
// Made at the first request, not at build: it needs AMPLIFY_APP_ORIGIN and
// outputs with auth.oauth (AMPLIFY_OUTPUTS).
let handlers: ReturnType<typeof createAuthRouteHandlers>;

export function GET(request: NextRequest, context: { params: Promise<{ slug: string }> }) {
  handlers ??= createAuthRouteHandlers({ redirectOnSignInComplete: '/server-auth', redirectOnSignOutComplete: '/server-auth' });
  return handlers(request, context);
}
