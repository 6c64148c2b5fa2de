import { describe, expect, it } from "vitest";
import { checkTrip, isComing, tripsInOrder } from "./pages/Courier";
import type { TripPublic } from "./api/types";

const now = new Date("2026-11-22T10:00:00Z").getTime();
const local = (minutes: number) => {
  const d = new Date(now + minutes * 60_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
const draft = { originText: ["60.17", "24.93"] as [string, string], destinationText: ["60.18", "24.95"] as [string, string], depart: local(20), arrive: local(80), capacity: "1" };
const fields = (d: typeof draft) => checkTrip(d, now).map((p) => p.field);

describe("the register-trip form's own checks", () => {
  it("passes a good trip", () => expect(fields(draft)).toEqual([]));
  it("flags empty and bad coordinates", () => {
    expect(fields({ ...draft, originText: ["", "east"], destinationText: ["95", "24.9"] })).toEqual(["origin_lat", "origin_lon", "destination_lat"]);
  });
  it("flags a leave time in the past by the given clock and an arrival not after it", () => {
    expect(checkTrip({ ...draft, depart: local(-30) }, now)[0]?.problem).toMatch(/^is in the past/);
    expect(checkTrip({ ...draft, arrive: local(20) }, now)[0]?.problem).toMatch(/^is not after “Leave at”/);
  });
  it("flags a capacity outside 1 to 4", () => {
    for (const capacity of ["0", "5", "2.5", "", "two"]) expect(fields({ ...draft, capacity })).toEqual(["capacity"]);
    expect(fields({ ...draft, capacity: "4" })).toEqual([]);
  });
});

describe("the courier's trips in order", () => {
  const trip = (id: number, status: string, leaves: number, arrives: number) =>
    ({ id, status, earliest_departure: new Date(now + leaves * 60_000).toISOString(), latest_arrival: new Date(now + arrives * 60_000).toISOString() }) as TripPublic;
  it("puts the coming ones first, then the past, open or not, the latest first", () => {
    const trips = [trip(1, "open", -300, -240), trip(2, "open", 60, 120), trip(3, "assigned", -30, -5), trip(4, "cancelled", 30, 90), trip(5, "open", 20, 80)];
    expect(isComing(trip(1, "open", -300, -240), now)).toBe(false);
    expect(tripsInOrder(trips, now).map((t) => t.id)).toEqual([3, 5, 2, 4, 1]);
  });
});
