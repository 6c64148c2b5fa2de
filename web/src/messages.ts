// The service's refusals in words a person reads: its field names become the labels the
// forms show, its validator's jargon plain sentences, and its UTC times the page's local
// time. The meaning is the service's; only the wording changes. Every ApiError passes
// through here (api/client.ts), so no page words a refusal of its own.

/** The API's field names, as the forms label them. */
export const FIELD_LABELS: Record<string, string> = {
  email: "Email",
  password: "Password",
  name: "Name",
  phone: "Phone",
  role: "I want to",
  current_password: "Current password",
  new_password: "New password",
  pickup_lat: "Pickup latitude",
  pickup_lon: "Pickup longitude",
  delivery_lat: "Delivery latitude",
  delivery_lon: "Delivery longitude",
  pickup_address: "Pickup address",
  delivery_address: "Delivery address",
  earliest_pickup: "Ready for pickup from",
  latest_delivery: "Deliver by",
  from_point_id: "Parcel waits at a pickup point",
  pickup_point_id: "Deliver to a pickup point",
  size: "Size",
  description: "What is it",
  receiver_name: "Receiver's name",
  receiver_phone: "Receiver's phone",
  payment_method: "Payment",
  origin_lat: "Start latitude",
  origin_lon: "Start longitude",
  destination_lat: "End latitude",
  destination_lon: "End longitude",
  earliest_departure: "Leave at",
  latest_arrival: "Arrive by",
  capacity: "Parcels you can carry",
  vehicle: "Vehicle",
  code: "Code",
  cash_collected_cents: "Cash collected",
  photo: "Photo",
  iban: "Payout account (IBAN)",
  trip_id: "Trip",
  order_id: "Order",
  stars: "Stars",
  kind: "Problem",
  note: "Note",
  body: "Message",
  reason: "Reason",
  day: "Day",
  base_cents: "Base (cents)",
  per_km_cents: "Per km (cents)",
  courier_share_pct: "Courier's share (%)",
  peak_multiplier: "Peak multiplier",
  urgent_surcharge_cents: "Urgent surcharge (cents)",
  urgent_window_min: "Urgent below (minutes)",
  opening_hours: "Opening hours",
  lat: "Latitude",
  lon: "Longitude",
  address: "Address",
  pass_mark: "Right answers to pass",
  questions_per_attempt: "Questions per attempt",
  retry_after_min: "Wait after a failure (min)",
};

/** A field's label: the last part of a dotted name ("size_surcharge_cents.medium"). */
export function fieldLabel(field: string): string {
  const last = field.split(".").pop() ?? field;
  return FIELD_LABELS[field] ?? FIELD_LABELS[last] ?? last.replaceAll("_", " ");
}

const WHEN = new Intl.DateTimeFormat("en-GB", {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});
const CLOCK = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });

// 2026-11-22 09:00, 2026-11-22T09:00:00.123+00:00, 2026-11-22T09:00:00Z, each maybe followed
// by " UTC"; a message that names UTC anywhere gives every time in it in UTC.
const STAMP = /(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?(?: UTC)?/g;
const BARE_CLOCK = /\b([01]\d|2[0-3]):([0-5]\d)\b(?: UTC)?/g;

function localTimes(text: string): string {
  const inUtc = /\bUTC\b/.test(text);
  let day: string | undefined;
  let out = text.replace(STAMP, (whole, date: string, hm: string, zone: string | undefined) => {
    if (!zone && !inUtc) return whole; // a time without a zone: left as the service wrote it
    day ??= date;
    const at = new Date(`${date}T${hm}:00${zone && zone !== "Z" ? zone : "Z"}`);
    return Number.isNaN(at.getTime()) ? whole : `\u0000${WHEN.format(at)}\u0000`;
  });
  if (inUtc) {
    // Bare clock times ("at 17:40") in a message about UTC times are UTC too.
    const date = day ?? new Date().toISOString().slice(0, 10);
    out = out
      .split("\u0000")
      .map((part, i) =>
        i % 2 === 1
          ? part
          : part.replace(BARE_CLOCK, (whole, h: string, m: string) => {
              const at = new Date(`${date}T${h}:${m}:00Z`);
              return Number.isNaN(at.getTime()) ? whole : CLOCK.format(at);
            }),
      )
      .join("");
    out = out.replace(/\s*\(UTC\)/g, "").replace(/\bUTC\b\s*/g, "");
  }
  return out.replaceAll("\u0000", "").replace(/\s{2,}/g, " ").trim();
}

/** Field names inside a sentence ("is not after earliest_pickup") as their labels. */
function labelledFields(text: string): string {
  return text.replace(/\b[a-z]+(?:_[a-z]+)+\b/g, (name) => (FIELD_LABELS[name] ? `“${FIELD_LABELS[name]}”` : name));
}

const PHONE_PATTERN = "^\\+[1-9][0-9]{6,14}$";

/** Pydantic's standard sentences in plain words (the service's own are left as they are). */
function plain(problem: string, type: string | undefined): string {
  let m: RegExpMatchArray | null;
  if (type === "missing" || problem === "Field required") return "is required";
  if ((m = problem.match(/^String should match pattern '(.*)'$/))) {
    return m[1] === PHONE_PATTERN
      ? "should be a phone number in international format: + and the country code, e.g. +358401234567"
      : "is not written in a form the service accepts";
  }
  if ((m = problem.match(/^Input should be greater than or equal to (.+)$/))) return `should be at least ${m[1]}`;
  if ((m = problem.match(/^Input should be greater than (.+)$/))) return `should be more than ${m[1]}`;
  if ((m = problem.match(/^Input should be less than or equal to (.+)$/))) return `should be at most ${m[1]}`;
  if ((m = problem.match(/^Input should be less than (.+)$/))) return `should be less than ${m[1]}`;
  if (/^Input should be a valid (number|integer)/.test(problem)) {
    return problem.includes("integer") ? "should be a whole number" : "should be a number";
  }
  if (/^Input should be a valid datetime/.test(problem)) return "should be a date and time";
  if (/^Input should be a valid date/.test(problem)) return "should be a date";
  if (/^Input should be a valid email|^value is not a valid email/.test(problem)) return "should be an email address";
  if ((m = problem.match(/^Input should be (.+)$/))) return `should be ${(m[1] ?? "").replaceAll("'", "")}`;
  if (/^should have at least 1 characters?, not 0$/.test(problem)) return "must not be empty";
  return problem.replace(/^Value error, /, "");
}

/** One refusal of one field, in words. */
export function humanProblem(problem: string, type?: string): string {
  return localTimes(labelledFields(plain(problem, type)));
}

/** A whole refusal without fields (a 409's sentence, a route that does not fit). */
export function humanDetail(detail: string): string {
  return localTimes(labelledFields(detail));
}

/** Whether a refusal lost a race: the thing acted on changed under the page since it was
 * shown. Only a 409 can. The service says so of its compare-and-set losses ("order 31
 * changed to accepted while you tried to grab", "trip 7 changed meanwhile", "trip 7 is no
 * longer open"); otherwise its body's `status` is the thing's state now, and a state other
 * than the one the page showed (`shown`), named by the sentence ("offer 5 is expired",
 * "order 31 is accepted, not open"), was reached meanwhile. A 409 in the state the page
 * showed is a rule, not a race: a trip that has left, an offer waiting on the trip, a route
 * that does not fit. */
export function lostRace(status: number, detail: string, current: string | undefined, shown: string): boolean {
  if (status !== 409) return false;
  if (/\bchanged (meanwhile|to \w+ while)|\bno longer\b/.test(detail)) return true;
  if (!current || current === shown) return false;
  return new RegExp(`\\bis (already )?${current.replace(/[^\w]/g, "")}\\b`).test(detail);
}

/** A sentence from the service's words: a capital first, a full stop last. */
export function sentence(text: string): string {
  const trimmed = text.trim().replace(/[\s;:,]+$/, "");
  if (!trimmed) return trimmed;
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}
