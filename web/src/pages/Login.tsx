import { useState } from "preact/hooks";
import { ApiError, api } from "../api/client";
import type { Role, SessionPublic } from "../api/types";
import { Field, FormError, asApiError } from "../ui";

export function Login({ onSignedIn }: { onSignedIn: (role: Role) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api.post<SessionPublic>("/auth/session", { email, password });
      onSignedIn(session.role);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <h1>crowdship</h1>
      <p class="muted">Parcels ride along with trips people make anyway.</p>
      <form onSubmit={submit} class="stack" aria-label="Sign in">
        <FormError error={error} fields={["email", "password"]} />
        <Field label="Email" name="email" error={error}>
          {(id, describedBy, invalid) => (
            <input id={id} type="email" autocomplete="username" required value={email}
              aria-describedby={describedBy} aria-invalid={invalid}
              onInput={(e) => setEmail(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="Password" name="password" error={error}>
          {(id, describedBy, invalid) => (
            <input id={id} type="password" autocomplete="current-password" required value={password}
              aria-describedby={describedBy} aria-invalid={invalid}
              onInput={(e) => setPassword(e.currentTarget.value)} />
          )}
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
