'use client';

import { confirmSignUp, signUp } from 'aws-amplify/auth';
import { useState } from 'react';

export default function SignUp() {
  const [email, setEmail] = useState('');
  const [error, setError] = useState('');

  async function register(form: FormData) {
    try {
      const username = String(form.get('email'));
      await signUp({ username, password: String(form.get('password')) });
      setEmail(username);
      setError('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  async function confirm(form: FormData) {
    try {
      await confirmSignUp({ username: email, confirmationCode: String(form.get('code')) });
      window.location.assign('/sign-in');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <>
      <h1>Sign up</h1>
      {email ? (
        <form action={confirm}>
          <p>A code was sent to {email}.</p>
          <p><label>Code <input name="code" inputMode="numeric" autoComplete="one-time-code" required /></label></p>
          <button>Confirm</button>
        </form>
      ) : (
        <form action={register}>
          <p><label>Email <input name="email" type="email" autoComplete="username" required /></label></p>
          <p><label>Password <input name="password" type="password" autoComplete="new-password" required /></label></p>
          <button>Create account</button>
        </form>
      )}
      {error && <p role="alert">{error}</p>}
    </>
  );
}
