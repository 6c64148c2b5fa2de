import { useState } from "preact/hooks";
import { ApiError, api } from "../api/client";
import type { Role, SessionPublic } from "../api/types";
import { Field, FormError, asApiError } from "../ui";

export function Login({ onSignedIn }: { onSignedIn: (role: Role) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [signingUp, setSigningUp] = useState(false);

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

  if (signingUp) return <SignUp onSignedIn={onSignedIn} onBack={() => setSigningUp(false)} />;
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
      <p>
        New here? <button type="button" class="link" onClick={() => setSigningUp(true)}>Create an account</button>
      </p>
    </main>
  );
}

function SignUp({ onSignedIn, onBack }: { onSignedIn: (role: Role) => void; onBack: () => void }) {
  const [form, setForm] = useState({ role: "courier", name: "", email: "", phone: "", password: "" });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (key: keyof typeof form) => (e: { currentTarget: { value: string } }) => setForm({ ...form, [key]: e.currentTarget.value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post("/auth/register", form);
      const session = await api.post<SessionPublic>("/auth/session", { email: form.email, password: form.password });
      onSignedIn(session.role);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  const fields: [keyof typeof form, string, string, string][] = [
    ["name", "Name", "text", "name"],
    ["email", "Email", "email", "username"],
    ["phone", "Phone", "tel", "tel"],
    ["password", "Password", "password", "new-password"],
  ];
  return (
    <main class="login" id="main">
      <h1>Create an account</h1>
      <form onSubmit={submit} class="stack" aria-label="Create an account">
        <FormError error={error} fields={["role", ...fields.map((f) => f[0])]} />
        <Field label="I want to" name="role" error={error}>
          {(id, d) => (
            <select id={id} aria-describedby={d} value={form.role} onChange={set("role")}>
              <option value="courier">carry parcels on my trips (courier)</option>
              <option value="customer">send and receive parcels (customer)</option>
              <option value="merchant">send parcels for my shop (merchant)</option>
            </select>
          )}
        </Field>
        {fields.map(([name, label, type, auto]) => (
          <Field key={name} label={label} name={name} error={error} hint={name === "phone" ? "International format, e.g. +358401234567" : name === "password" ? "At least 8 characters" : undefined}>
            {(id, d, invalid) => <input id={id} type={type} autocomplete={auto} value={form[name]} aria-describedby={d} aria-invalid={invalid} onInput={set(name)} />}
          </Field>
        ))}
        <button type="submit" class="primary" disabled={busy}>{busy ? "Creating…" : "Create account"}</button>
      </form>
      <p><button type="button" class="link" onClick={onBack}>Back to sign in</button></p>
    </main>
  );
}
