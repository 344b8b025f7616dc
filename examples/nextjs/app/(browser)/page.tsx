import { currentTokens } from '@/session';

// A Server Component: it reads the session the proxy kept fresh.
export default async function Home() {
  const tokens = await currentTokens();
  if (!tokens) return <p data-testid="user">Signed out.</p>;
  return (
    <>
      <p data-testid="user">Signed in as {String(tokens.idToken?.payload.email)}</p>
      <p>
        Access token issued <span data-testid="iat">{tokens.accessToken.payload.iat}</span>, expires{' '}
        <span data-testid="exp">{tokens.accessToken.payload.exp}</span>. <a href="/api/me">GetUser</a>
      </p>
    </>
  );
}
