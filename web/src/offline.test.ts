import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, flush, pending } from "./offline";

beforeEach(() => localStorage.clear());
afterEach(() => vi.unstubAllGlobals());

describe("a courier's actions on a flaky connection", () => {
  it("keeps an action that could not be sent and sends it, with the same key, later", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("offline"); }));
    expect(await act("/orders/7/grab", "grab order 7", { trip_id: 2 })).toBeNull();
    const [kept] = pending();
    expect(kept?.path).toBe("/orders/7/grab");

    const sent = vi.fn(async (_url: string, _init: RequestInit) => new Response("{}", { status: 200 }));
    vi.stubGlobal("fetch", sent);
    expect(await flush(() => undefined)).toBe(1);
    expect(pending()).toEqual([]);
    const headers = sent.mock.calls[0]?.[1].headers as Record<string, string>;
    expect(headers["Idempotency-Key"]).toBe(kept?.key); // a retry is recognised, never done twice
  });

  it("drops an action the service refused, and reports it", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("offline"); }));
    await act("/orders/7/withdraw", "withdraw order 7");
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ detail: "the 5-minute window has passed" }), { status: 409 })));
    const refused: string[] = [];
    await flush((action, error) => refused.push(`${action.label}: ${error.message}`));
    expect(refused).toEqual(["withdraw order 7: the 5-minute window has passed"]);
    expect(pending()).toEqual([]);
  });

  it("does not keep an action the service answered", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("{}", { status: 200 })));
    await act("/offers/1/accept", "accept offer 1");
    expect(pending()).toEqual([]);
  });
});
