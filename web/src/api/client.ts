// The one way the pages change anything: the service's HTTP API, signed in by an HttpOnly
// cookie. State-changing requests echo the CSRF cookie in a header (double submit).
import { fieldLabel, humanDetail, humanProblem } from "../messages";

export interface Problem {
  field: string;
  problem: string;
  type?: string;
}

/** A refused request: its status, the service's sentence, and the fields it names. */
export class ApiError extends Error {
  readonly status: number;
  readonly problems: Problem[];
  readonly currentStatus: string | undefined;
  /** A 409 that lost a race: the thing changed under the page (set by asApiError, which
   * knows what the page showed; see lostRace in messages.ts). */
  race = false;

  constructor(status: number, detail: string, problems: Problem[] = [], currentStatus?: string) {
    super(detail);
    this.status = status;
    this.problems = problems;
    this.currentStatus = currentStatus;
  }

  /** The message for one form field, if the service named it. */
  forField(field: string): string | undefined {
    const hit = this.problems.find((p) => p.field === field || p.field.endsWith(`.${field}`));
    return hit?.problem;
  }
}

export function cookie(name: string): string | undefined {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

export function newKey(): string {
  return crypto.randomUUID();
}

export interface CallOptions {
  body?: unknown;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) headers["X-CSRF-Token"] = cookie("crowdship_csrf") ?? "";
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, "the service cannot be reached; check your connection");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const body = (data ?? {}) as { detail?: unknown; errors?: Problem[]; field?: string; status?: string };
    const raw =
      typeof body.detail === "string" ? body.detail : `the service answered ${response.status}`;
    // In words (messages.ts): the forms' labels, plain sentences, local times.
    const problems = (
      Array.isArray(body.errors) ? body.errors : body.field ? [{ field: body.field, problem: raw }] : []
    ).map((p) => ({ ...p, problem: humanProblem(p.problem, p.type) }));
    const detail =
      problems.length > 0
        ? problems.map((p) => `${fieldLabel(p.field)}: ${p.problem}`).join("; ")
        : humanDetail(raw);
    if (response.status === 401 && !path.startsWith("/auth/")) {
      window.dispatchEvent(new CustomEvent("crowdship:signed-out"));
    }
    throw new ApiError(response.status, detail, problems, body.status);
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => call<T>("GET", path, { signal }),
  post: <T>(path: string, body?: unknown, idempotencyKey?: string) =>
    call<T>("POST", path, { body, idempotencyKey }),
  put: <T>(path: string, body: unknown) => call<T>("PUT", path, { body }),
  patch: <T>(path: string, body: unknown) => call<T>("PATCH", path, { body }),
  del: <T>(path: string) => call<T>("DELETE", path),
};

/** Query string from defined values only. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}
