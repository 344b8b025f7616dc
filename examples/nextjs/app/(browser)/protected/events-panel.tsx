'use client';

import { events, type EventsChannel } from 'aws-amplify/data';
import { useEffect, useRef, useState } from 'react';

type Auth = { authMode: 'userPool' } | { authMode: 'lambda'; authToken: string };

// The user's access token from Amplify's session (authMode userPool) or,
// behind cognate gateway, from its token route, sent as the Authorization
// header as is (authMode lambda).
async function credentials(gatewayToken: boolean): Promise<Auth> {
  if (!gatewayToken) return { authMode: 'userPool' };
  const res = await fetch('/api/auth/token', { headers: { 'X-Cognate-Token': '1' } });
  if (!res.ok) throw new Error(`GET /api/auth/token: ${res.status}`);
  return { authMode: 'lambda', authToken: (await res.json()).accessToken };
}

// Cognate's events API (custom.events in amplify_outputs.json) as the user.
export default function EventsPanel({ channel, gatewayToken = false }: { channel: string; gatewayToken?: boolean }) {
  const [status, setStatus] = useState('connecting');
  const [messages, setMessages] = useState<string[]>([]);
  const open = useRef<{ ch: EventsChannel; auth: Auth } | null>(null);

  useEffect(() => {
    let closed = false;
    (async () => {
      const auth = await credentials(gatewayToken);
      const ch = await events.connect(channel, auth);
      if (closed) return ch.close();
      open.current = { ch, auth };
      ch.subscribe({
        next: (data) => setMessages((m) => [...m, String(data.event?.text)]),
        error: (err) => setStatus(`error: ${err}`),
      });
      setStatus('live');
    })().catch((err) => setStatus(`error: ${err}`));
    return () => {
      closed = true;
      open.current?.ch.close();
    };
  }, [channel, gatewayToken]);

  async function send(form: FormData) {
    await open.current?.ch.publish({ text: String(form.get('text')) }, open.current.auth);
  }

  return (
    <section>
      <h2>
        Events <small data-testid="events-status">{status}</small>
      </h2>
      <form action={send}>
        <input name="text" aria-label="Message" required /> <button>Send</button>
      </form>
      <ul data-testid="events">
        {messages.map((m, i) => (
          <li key={i}>{m}</li>
        ))}
      </ul>
    </section>
  );
}
