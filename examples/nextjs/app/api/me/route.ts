import { NextResponse } from 'next/server';

import { userPoolEndpoint } from '@/amplify-server';
import { currentTokens } from '@/session';

// A route handler calling an API as the user: Cognito's GetUser with the access token.
export async function GET() {
  const tokens = await currentTokens();
  if (!tokens) return NextResponse.json({ error: 'signed out' }, { status: 401 });
  const res = await fetch(`${userPoolEndpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.GetUser',
    },
    body: JSON.stringify({ AccessToken: tokens.accessToken.toString() }),
  });
  return NextResponse.json(await res.json(), { status: res.status, headers: { 'cache-control': 'private, no-store' } });
}
