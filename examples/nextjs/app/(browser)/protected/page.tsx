import { redirect } from 'next/navigation';

import { currentTokens } from '@/session';

import EventsPanel from './events-panel';

export default async function Protected() {
  const tokens = await currentTokens();
  if (!tokens) redirect('/sign-in'); // the proxy already does; this page does not rely on it
  return (
    <>
      <h1>Protected</h1>
      <p data-testid="protected-user">{String(tokens.idToken?.payload.email)}</p>
      {/* COGNATE_GATEWAY=1: behind cognate gateway, whose token route hands the panel its token */}
      <EventsPanel channel="/default/nextjs-example" gatewayToken={process.env.COGNATE_GATEWAY === '1'} />
    </>
  );
}
