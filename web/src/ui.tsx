// Small pieces every page uses: labelled fields with their error, status badges, money,
// times, countdowns, timelines, tabs.
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { EventPublic } from "./api/types";
import { ApiError } from "./api/client";
import { lostRace, sentence } from "./messages";
import { wallSecondsUntil } from "./service-clock";

export function money(cents: number | null | undefined, currency = "EUR"): string {
  if (cents === null || cents === undefined) return "–";
  return new Intl.NumberFormat("en-FI", { style: "currency", currency }).format(cents / 100);
}

// Formatters are built once: building one per call (toLocaleString) costs ~0.1 ms, which
// is seconds over the map's 15000 lines.
const DAY_TIME = new Intl.DateTimeFormat("en-GB", { weekday: "short", hour: "2-digit", minute: "2-digit" });
const CLOCK = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });

export function time(iso: string | null | undefined): string {
  return iso ? DAY_TIME.format(new Date(iso)) : "–";
}

export function clock(iso: string | null | undefined): string {
  return iso ? CLOCK.format(new Date(iso)) : "–";
}

/** A datetime-local input's value for a moment (the browser's time zone). */
export function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** ISO 8601 with offset from a datetime-local value. */
export function isoFromLocal(value: string): string {
  return value ? new Date(value).toISOString() : "";
}

/** A state or action's name in words ("picked_up" -> "picked up"). */
export function words(name: string): string {
  return name.replaceAll("_", " ");
}

export function Status({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{words(status)}</span>;
}

interface FieldProps {
  label: string;
  name: string;
  idSuffix?: string; // when the same form appears more than once on a page
  error?: ApiError | null;
  hint?: string;
  children: (id: string, describedBy: string | undefined, invalid: boolean) => JSX.Element;
}

/** A labelled control with the service's message for its field right beside it. */
export function Field({ label, name, error, hint, children, idSuffix = "" }: FieldProps) {
  const id = `f-${name}${idSuffix}`;
  const message = error?.forField(name);
  const describedBy = [hint ? `${id}-hint` : "", message ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class={`field${message ? " field-invalid" : ""}`}>
      <label for={id}>{label}</label>
      {children(id, describedBy, Boolean(message))}
      {hint && <small id={`${id}-hint`}>{hint}</small>}
      {message && (
        <p class="field-error" id={`${id}-error`} role="alert" data-field={name}>
          {message}
        </p>
      )}
    </div>
  );
}

/** A refusal that names no field of the form on screen: shown above the form. */
export function FormError({ error, fields = [] }: { error: ApiError | null; fields?: string[] }) {
  if (!error) return null;
  const unshown = error.problems.filter((p) => !fields.some((f) => p.field === f || p.field.endsWith(`.${f}`)));
  if (error.problems.length > 0 && unshown.length === 0) {
    return <p class="form-error" role="alert">Please correct the fields marked below.</p>;
  }
  // Said only of a lost race, where the page reloads after it (asApiError with `shown`).
  if (error.race) {
    return (
      <p class="form-error" role="alert">
        {sentence(error.message)} Someone else changed it first; the list has been refreshed.
      </p>
    );
  }
  return (
    <p class="form-error" role="alert">
      {error.message}
    </p>
  );
}

/** The refusal as an ApiError. `shown`: the state the page showed the thing in, given where
 * the page reloads after a refusal; a 409 that lost a race to a change made meanwhile is
 * then marked as such (`race`, lostRace in messages.ts). */
export function asApiError(error: unknown, shown?: string): ApiError {
  const found = error instanceof ApiError ? error : new ApiError(0, String(error));
  if (shown !== undefined) found.race = lostRace(found.status, found.message, found.currentStatus, shown);
  return found;
}

/** Minutes and seconds left until `until` (a service time); calls onDone once it passes. */
export function Countdown({ until, label, onDone }: { until: string; label: string; onDone?: () => void }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = Math.round(wallSecondsUntil(until));
  useEffect(() => {
    if (left === 0) onDone?.();
  }, [left === 0]);
  const text = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  return (
    <span class={`countdown${left < 60 ? " countdown-low" : ""}`} aria-label={`${label}: ${text} left`}>
      {label} {text}
    </span>
  );
}

export function Timeline({ events }: { events: EventPublic[] }) {
  if (events.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <ol class="timeline">
      {events.map((e) => (
        <li key={`${e.at}-${e.action}`}>
          <time dateTime={e.at}>{time(e.at)}</time> <strong>{words(e.action)}</strong>{" "}
          {e.from_status ? `${words(e.from_status)} → ` : "→ "}
          {words(e.to_status)}
          {e.note ? <span class="muted"> · {e.note}</span> : null}
        </li>
      ))}
    </ol>
  );
}

export function Tabs<T extends string>({
  tabs,
  current,
  onChange,
  label,
}: {
  tabs: [T, string][];
  current: T;
  onChange: (tab: T) => void;
  label: string;
}) {
  return (
    <nav class="tabs" aria-label={label}>
      {tabs.map(([key, text]) => (
        <button
          type="button"
          key={key}
          class={key === current ? "tab tab-current" : "tab"}
          aria-current={key === current ? "page" : undefined}
          onClick={() => onChange(key)}
        >
          {text}
        </button>
      ))}
    </nav>
  );
}

export function Card({ title, children, actions }: { title: ComponentChildren; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card">
      <header class="card-head">
        <h3>{title}</h3>
        {actions && <div class="card-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

/** A table's box: a table wider than the screen scrolls inside it, never the page. It can
 * be focused, so the keyboard scrolls it too. While its content is wider than the box, a
 * fade at each edge with more beyond it and a caption say that it scrolls sideways. */
export function TableBox({ label, children }: { label: string; children: ComponentChildren }) {
  const box = useRef<HTMLDivElement>(null);
  const [more, setMore] = useState({ left: false, right: false });
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const measure = () => {
      const left = element.scrollLeft > 1;
      const right = element.scrollLeft + element.clientWidth < element.scrollWidth - 1;
      setMore((was) => (was.left === left && was.right === right ? was : { left, right }));
    };
    measure();
    const watch = new ResizeObserver(measure);
    watch.observe(element);
    if (element.firstElementChild) watch.observe(element.firstElementChild);
    element.addEventListener("scroll", measure, { passive: true });
    return () => {
      watch.disconnect();
      element.removeEventListener("scroll", measure);
    };
  }, []);
  const overflows = more.left || more.right;
  const edges = `${more.left ? " more-left" : ""}${more.right ? " more-right" : ""}`;
  return (
    <>
      {overflows && <p class="scroll-hint" aria-hidden="true">Scroll sideways for more columns ⇆</p>}
      <div class={`table-frame${edges}`} data-overflows={overflows ? "true" : "false"}>
        <div ref={box} class="table-scroll" tabIndex={0} role="region" aria-label={label}>
          {children}
        </div>
      </div>
    </>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** The proof-of-delivery photo of an order, if the courier took one. */
export function ProofPhoto({ orderId, takenAt }: { orderId: number; takenAt: string | null | undefined }) {
  if (!takenAt) return null;
  return (
    <figure class="proof-figure">
      <img class="proof" src={`/orders/${orderId}/photo`} alt={`Proof of delivery of order ${orderId}`} loading="lazy" />
      <figcaption>Photo at delivery, {time(takenAt)}</figcaption>
    </figure>
  );
}
