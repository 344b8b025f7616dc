'use client';

import { signOut } from 'aws-amplify/auth';

export default function SignOutButton() {
  async function out() {
    await signOut();
    window.location.assign('/');
  }
  return <button onClick={out}>Sign out</button>;
}
