// A courier's actions survive a flaky connection: each is kept on the phone (localStorage)
// with an Idempotency-Key before it is sent, and sent again when the connection returns.
// The key makes a retry of something the service already did return the first answer
// instead of doing it twice.
import { ApiError, call, newKey } from "./api/client";

export interface PendingAction {
  key: string;
  method: "POST";
  path: string;
  body?: unknown;
  label: string;
  queuedAt: string;
}

const STORE = "crowdship.pending-actions";

export function pending(): PendingAction[] {
  try {
    return JSON.parse(localStorage.getItem(STORE) ?? "[]") as PendingAction[];
  } catch {
    return [];
  }
}

function save(actions: PendingAction[]): void {
  localStorage.setItem(STORE, JSON.stringify(actions));
}

/** Tell the page how many actions wait for the connection. */
function announce(): void {
  window.dispatchEvent(new CustomEvent("crowdship:pending", { detail: pending().length }));
}

function remove(key: string): void {
  save(pending().filter((a) => a.key !== key));
}

/** Send an action; if the network fails, keep it for later and say so (returns null). */
export async function act<T>(path: string, label: string, body?: unknown): Promise<T | null> {
  const action: PendingAction = {
    key: newKey(),
    method: "POST",
    path,
    body,
    label,
    queuedAt: new Date().toISOString(),
  };
  save([...pending(), action]);
  try {
    const result = await call<T>("POST", path, { body, idempotencyKey: action.key });
    remove(action.key);
    return result;
  } catch (error) {
    if (error instanceof ApiError && error.status === 0) {
      announce(); // offline: kept for later
      return null;
    }
    remove(action.key); // the service answered: refused actions are not retried
    throw error;
  }
}

/** Send what was kept, oldest first. Stops at the first network failure. */
export async function flush(onRefused: (action: PendingAction, error: ApiError) => void): Promise<number> {
  let sent = 0;
  for (const action of pending()) {
    try {
      await call("POST", action.path, { body: action.body, idempotencyKey: action.key });
      remove(action.key);
      sent += 1;
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) break;
      remove(action.key);
      if (error instanceof ApiError) onRefused(action, error);
    }
  }
  announce();
  return sent;
}
