// What a form can tell before posting, the same bounds the service checks: each problem
// named by the API's field, shown beside that field (Sender's new order, Courier's trips).
import { useState } from "preact/hooks";
import type { Problem } from "./api/client";
import { fieldLabel } from "./messages";
import { time } from "./ui";

/** A typed coordinate's problem, if any. */
export function coordinateProblem(text: string, field: string, bound: 90 | 180): Problem | null {
  const value = text.trim();
  if (value === "") return { field, problem: "is required: type it, or click the map" };
  const number = Number(value.replace(",", "."));
  if (!Number.isFinite(number)) return { field, problem: "should be a number, e.g. 60.1699" };
  if (Math.abs(number) > bound) return { field, problem: `should be between -${bound} and ${bound}` };
  return null;
}

/** A window's two times (datetime-local values): the start not in the past (by `now`, the
 * service's clock; the inputs count whole minutes, so the current minute is not past), the
 * end not in the past and after the start. */
export function windowProblems(start: string, end: string, fields: [string, string], now: number): Problem[] {
  const problems: Problem[] = [];
  const [startField, endField] = fields;
  const from = start ? new Date(start).getTime() : Number.NaN;
  const to = end ? new Date(end).getTime() : Number.NaN;
  const nowText = time(new Date(now).toISOString());
  if (Number.isNaN(from)) problems.push({ field: startField, problem: "is required" });
  else if (from < now - 60_000) problems.push({ field: startField, problem: `is in the past: it is now ${nowText}` });
  if (Number.isNaN(to)) problems.push({ field: endField, problem: "is required" });
  else if (to <= now) problems.push({ field: endField, problem: `is in the past: it is now ${nowText}` });
  else if (!Number.isNaN(from) && to <= from) {
    problems.push({ field: endField, problem: `is not after “${fieldLabel(startField)}” (${time(new Date(from).toISOString())})` });
  }
  return problems;
}

/** The fields whose own check is shown: each once it is left (blur), all of them once a
 * post is tried (`checkAll`). Leaving a field for the form's submit button marks nothing:
 * the submit checks every field, and a message appearing first would move the button from
 * under the pointer, so the click would be lost. */
export function useChecked() {
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const leave = (field: string) => (e: FocusEvent) => {
    if ((e.relatedTarget as HTMLElement | null)?.getAttribute("type") === "submit") return;
    setChecked((was) => (was.has(field) ? was : new Set([...was, field])));
  };
  const checkAll = (fields: string[]) => setChecked((was) => new Set([...was, ...fields]));
  const reset = () => setChecked(new Set());
  return { checked, leave, checkAll, reset };
}
