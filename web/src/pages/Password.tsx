import { useState } from "preact/hooks";
import { api, ApiError } from "../api/client";
import type { UserPublic } from "../api/types";
import { asApiError, Field, FormError } from "../ui";

/** Change the password. The service then revokes every session of the account (this
 * page's cookie too), so the page signs in again with the new password at once. */
export function PasswordPanel({ me, onClose }: { me: UserPublic; onClose: (changed: boolean) => void }) {
  const [current, setCurrent] = useState("");
  const [fresh, setFresh] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.put("/me/password", { current_password: current, new_password: fresh });
      await api.post("/auth/session", { email: me.email, password: fresh });
      onClose(true);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="password-panel card" aria-label="Change password">
      <h2>Change password</h2>
      <p>Every other device signed in to this account is signed out.</p>
      <form onSubmit={submit} class="stack">
        <FormError error={error} fields={["current_password", "new_password"]} />
        <Field label="Current password" name="current_password" error={error}>
          {(id, describedBy, invalid) => (
            <input id={id} type="password" autocomplete="current-password" required value={current}
              aria-describedby={describedBy} aria-invalid={invalid}
              onInput={(e) => setCurrent(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="New password" name="new_password" error={error}
          hint="At least 8 characters; not your email, not a common password.">
          {(id, describedBy, invalid) => (
            <input id={id} type="password" autocomplete="new-password" required minLength={8} value={fresh}
              aria-describedby={describedBy} aria-invalid={invalid}
              onInput={(e) => setFresh(e.currentTarget.value)} />
          )}
        </Field>
        <div class="row">
          <button type="submit" class="primary" disabled={busy}>Change password</button>
          <button type="button" onClick={() => onClose(false)}>Cancel</button>
        </div>
      </form>
    </section>
  );
}
