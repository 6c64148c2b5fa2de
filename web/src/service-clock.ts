// The service's time, which a demo clock may run faster than the wall: countdowns to
// service deadlines (offer expiry, the withdrawal window) must count in it.
import { api } from "./api/client";
import type { components } from "./api/schema";

export type Rules = components["schemas"]["Rules"];

let base = { service: Date.now(), browser: Date.now(), speed: 1 };
let loaded: Promise<Rules> | null = null;

export function loadRules(): Promise<Rules> {
  loaded ??= api.get<Rules>("/service/rules").then(
    (rules) => {
      base = { service: new Date(rules.now).getTime(), browser: Date.now(), speed: rules.clock_speed };
      return rules;
    },
    (error: unknown) => {
      loaded = null; // asked again next time, not a failure kept for good
      throw error;
    },
  );
  return loaded;
}

export function serviceNow(): number {
  return base.service + (Date.now() - base.browser) * base.speed;
}

/** Real (wall) seconds until a service time. */
export function wallSecondsUntil(iso: string): number {
  return Math.max(0, (new Date(iso).getTime() - serviceNow()) / 1000 / base.speed);
}
