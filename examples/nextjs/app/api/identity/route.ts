import { NextResponse } from 'next/server';

// The identity headers this request reached the app with. Behind cognate
// gateway they are the gateway's own (X-Cognate-User, -Sub, -Email, -Groups),
// set from the verified session after it removed every one a client sent.
const IDENTITY = /^(x[-_]cognate[-_]|x[-_]amzn[-_]oidc[-_]|x[-_]forwarded[-_]user$|remote[-_]user$)/;

export function GET(request: Request) {
  const seen = [...request.headers].filter(([name]) => IDENTITY.test(name));
  return NextResponse.json(Object.fromEntries(seen), { headers: { 'cache-control': 'private, no-store' } });
}
