'use client';

import { events, type EventsChannel } from 'aws-amplify/data';
import { useEffect, useRef, useState } from 'react';

// Cognate's events API (custom.events in amplify_outputs.json) with the
// user's access token from Amplify's session (authMode userPool).
export default function EventsPanel({ channel }: { channel: string }) {
  const [status, setStatus] = useState('connecting');
  const [messages, setMessages] = useState<string[]>([]);
  const open = useRef<EventsChannel | null>(null);

  useEffect(() => {
    let closed = false;
    events.connect(channel, { authMode: 'userPool' }).then(
      (ch) => {
        if (closed) return ch.close();
        open.current = ch;
        ch.subscribe({
          next: (data) => setMessages((m) => [...m, String(data.event?.text)]),
          error: (err) => setStatus(`error: ${err}`),
        });
        setStatus('live');
      },
      (err) => setStatus(`error: ${err}`),
    );
    return () => {
      closed = true;
      open.current?.close();
    };
  }, [channel]);

  async function send(form: FormData) {
    await open.current?.publish({ text: String(form.get('text')) }, { authMode: 'userPool' });
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
