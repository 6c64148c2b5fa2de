// An order's thread between its courier, sender and receiver (and the operator), and the
// masked call: nobody's phone number is shown to anybody.
import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "./api/client";
import type { MessagePublic } from "./api/types";
import type { components } from "./api/schema";
import { loadRules } from "./service-clock";
import { Field, FormError, asApiError, clock } from "./ui";

type CallPublic = components["schemas"]["CallPublic"];

export function Thread({ orderId, version, callTo }: { orderId: number; version: number; callTo: ("sender" | "receiver" | "courier")[] }) {
  const [messages, setMessages] = useState<MessagePublic[]>([]);
  const [body, setBody] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [call, setCall] = useState<CallPublic | null>(null);
  const [calls, setCalls] = useState(false);
  useEffect(() => void loadRules().then((rules) => setCalls(rules.calls)).catch(() => setCalls(false)), []);
  const load = () => api.get<MessagePublic[]>(`/orders/${orderId}/messages`).then(setMessages).catch(() => setMessages([]));
  useEffect(() => void load(), [orderId, version]);
  const send = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api.post(`/orders/${orderId}/messages`, { body });
      setBody("");
      await load();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  const dial = async (to: "sender" | "receiver" | "courier") => {
    setError(null);
    try {
      setCall(await api.post<CallPublic>(`/orders/${orderId}/call`, { to }));
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <section class="thread" aria-label={`Messages about order ${orderId}`}>
      <h4>Messages</h4>
      {messages.length === 0 ? <p class="muted">No messages yet.</p> : (
        <ol class="messages">
          {messages.map((m) => (
            <li key={m.id}><span class="muted">{clock(m.created_at)} · {m.author_role}:</span> {m.body}</li>
          ))}
        </ol>
      )}
      <form class="row" onSubmit={send} aria-label={`Write about order ${orderId}`}>
        <FormError error={error} fields={["body"]} />
        <Field label="Message" name="body" idSuffix={`-thread-${orderId}`} error={error}>
          {(id, d, invalid) => <input id={id} value={body} maxLength={1000} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setBody(e.currentTarget.value)} />}
        </Field>
        <button type="submit">Send</button>
        {calls && callTo.map((to) => (
          <button key={to} type="button" onClick={() => void dial(to)}>Call the {to}</button>
        ))}
      </form>
      {call && (
        <p class="code-box" role="status">
          Dial <strong>{call.masked_number}</strong> (works until {clock(call.expires_at)}); it connects you without showing either number.
        </p>
      )}
    </section>
  );
}
