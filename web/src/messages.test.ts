import { describe, expect, it } from "vitest";
import { fieldLabel, humanDetail, humanProblem, lostRace, sentence } from "./messages";

const local = (iso: string) =>
  new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
const today = new Date().toISOString().slice(0, 10);
const localClock = (hm: string) => new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" }).format(new Date(`${today}T${hm}:00Z`));

describe("the service's refusals in words", () => {
  it("says what a phone number should look like instead of the pattern", () => {
    const text = humanProblem("String should match pattern '^\\+[1-9][0-9]{6,14}$'", "string_pattern_mismatch");
    expect(text).toMatch(/phone number in international format/);
    expect(text).not.toMatch(/pattern|\^/);
  });

  it("names fields by their labels and gives UTC times in the page's local time", () => {
    const text = humanProblem("2030-01-01 17:00 is not after earliest_pickup 2030-01-01 18:00 (UTC)", "value_error");
    expect(text).toBe(`${local("2030-01-01T17:00:00Z")} is not after “Ready for pickup from” ${local("2030-01-01T18:00:00Z")}`);
    expect(text).not.toMatch(/UTC|earliest_pickup/);
  });

  it("converts ISO times with an offset and bare clock times of a UTC message", () => {
    expect(humanProblem("2030-01-01T17:00:00+00:00 is not after earliest_departure 2030-01-01T18:00:00+00:00"))
      .toBe(`${local("2030-01-01T17:00:00Z")} is not after “Leave at” ${local("2030-01-01T18:00:00Z")}`);
    expect(humanDetail("leaving at 16:20 UTC, trip 3 would deliver order 9 at 17:05, after its latest delivery 17:00"))
      .toBe(`leaving at ${localClock("16:20")}, trip 3 would deliver order 9 at ${localClock("17:05")}, after its latest delivery ${localClock("17:00")}`);
  });

  it("words pydantic's bounds and leaves the service's own sentences alone", () => {
    expect(humanProblem("Input should be less than or equal to 90", "less_than_equal")).toBe("should be at most 90");
    expect(humanProblem("Input should be greater than or equal to 0", "greater_than_equal")).toBe("should be at least 0");
    expect(humanProblem("Field required", "missing")).toBe("is required");
    expect(humanProblem("is required unless from_point_id is given")).toBe("is required unless “Parcel waits at a pickup point” is given");
    expect(humanDetail("order 3 changed to accepted")).toBe("order 3 changed to accepted");
  });

  it("labels fields, dotted names by their last part", () => {
    expect(fieldLabel("receiver_phone")).toBe("Receiver's phone");
    expect(fieldLabel("size_surcharge_cents.medium")).toBe("medium");
  });
});

describe("a 409 is a lost race only when the thing changed under the page", () => {
  it("takes a state other than the one shown, named by the service, for a race", () => {
    expect(lostRace(409, "offer 5 is expired", "expired", "pending")).toBe(true);
    expect(lostRace(409, "order 31 is accepted, not open", "accepted", "posted")).toBe(true);
    expect(lostRace(409, "order 31 changed to accepted while you tried to grab", "accepted", "posted")).toBe(true);
    expect(lostRace(409, "trip 7 changed meanwhile; try again", "open", "open")).toBe(true);
    expect(lostRace(409, "trip 7 is no longer open", "pending", "pending")).toBe(true);
  });
  it("takes a refusal in the state shown for a rule, not a race", () => {
    expect(lostRace(409, "trip 7 departed at 08:30", "open", "open")).toBe(false);
    expect(lostRace(409, "trip 7 has a pending offer; accept or reject it before changing the trip", "open", "open")).toBe(false);
    // The status of another thing than the one acted on, not named as its state.
    expect(lostRace(409, "capacity: trip 7 carries 2 of its 2 parcel units (orders 31, 32); order 33 needs 1 more", "assigned", "posted")).toBe(false);
    expect(lostRace(422, "offer 5 is expired", "expired", "pending")).toBe(false);
  });
  it("makes a sentence of the service's words", () => {
    expect(sentence("trip 7 departed at 08:30")).toBe("Trip 7 departed at 08:30.");
    expect(sentence("offer 5 is expired.")).toBe("Offer 5 is expired.");
  });
});
