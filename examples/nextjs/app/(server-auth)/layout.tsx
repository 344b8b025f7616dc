import type { ReactNode } from 'react';

export const metadata = { title: 'Cognate with Next.js: server-side auth' };

// Server-side auth (/api/auth/*): no Amplify in the browser, which could not
// read the HttpOnly token cookies anyway.
export default function ServerAuthLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '2rem auto', padding: '0 1rem' }}>
        {children}
      </body>
    </html>
  );
}
