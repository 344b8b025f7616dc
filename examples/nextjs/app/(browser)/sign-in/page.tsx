'use client';

import { signIn } from 'aws-amplify/auth';
import { useState } from 'react';

export default function SignIn() {
  const [error, setError] = useState('');

  async function submit(form: FormData) {
    try {
      const out = await signIn({ username: String(form.get('email')), password: String(form.get('password')) });
      if (!out.isSignedIn) throw new Error(`unsupported next step ${out.nextStep.signInStep}`);
      window.location.assign('/protected');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <form action={submit}>
      <h1>Sign in</h1>
      <p><label>Email <input name="email" type="email" autoComplete="username" required /></label></p>
      <p><label>Password <input name="password" type="password" autoComplete="current-password" required /></label></p>
      <button>Sign in</button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
