import { NextResponse, type NextRequest } from 'next/server';

import { refreshInProxy } from '@/amplify-server';

// Refreshes sessions about to expire (the render of this request gets the new
// tokens) and keeps signed-out visitors out of /protected.
export async function proxy(request: NextRequest) {
  const { response, tokens } = await refreshInProxy(request);
  if (!tokens && request.nextUrl.pathname.startsWith('/protected')) {
    return NextResponse.redirect(new URL('/sign-in', request.url));
  }
  return response;
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
