import type { ReactNode } from 'react';

import ConfigureAmplify from './configure-amplify';
import SignOutButton from './sign-out-button';

export const metadata = { title: 'Cognate with Next.js' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '2rem auto', padding: '0 1rem' }}>
        <ConfigureAmplify />
        <nav style={{ display: 'flex', gap: '1rem', marginBottom: '1rem' }}>
          <a href="/">Home</a>
          <a href="/protected">Protected</a>
          <a href="/sign-up">Sign up</a>
          <a href="/sign-in">Sign in</a>
          <SignOutButton />
        </nav>
        {children}
      </body>
    </html>
  );
}
