import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, call, query } from "./client";

afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = "crowdship_csrf=; max-age=0";
});

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("call", () => {
  it("names each field the service's 422 names", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(422, {
      detail: "latest_delivery: 17:00 is before earliest_pickup 18:00",
      errors: [{ field: "latest_delivery", problem: "17:00 is before earliest_pickup 18:00", type: "value_error" }],
    })));
    const error = await call("POST", "/orders", { body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(422);
    expect((error as ApiError).forField("latest_delivery")).toBe("17:00 is before “Ready for pickup from” 18:00");
    expect((error as ApiError).forField("earliest_pickup")).toBeUndefined();
  });

  it("keeps a 409's current state and sentence", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(409, { detail: "order 3 changed to accepted", status: "accepted" })));
    const error = (await call("POST", "/orders/3/grab", { body: { trip_id: 1 } }).catch((e: unknown) => e)) as ApiError;
    expect(error.message).toBe("order 3 changed to accepted");
    expect(error.currentStatus).toBe("accepted");
  });

  it("sends the CSRF cookie's value and the idempotency key on a change, not on a read", async () => {
    document.cookie = "crowdship_csrf=abc123";
    const fetched = vi.fn(async (_url: string, _init: RequestInit) => answer(200, {}));
    vi.stubGlobal("fetch", fetched);
    await call("POST", "/trips", { body: { a: 1 }, idempotencyKey: "k-1" });
    await call("GET", "/trips");
    const [post, get] = fetched.mock.calls.map((c) => c[1].headers as Record<string, string>);
    expect(post?.["X-CSRF-Token"]).toBe("abc123");
    expect(post?.["Idempotency-Key"]).toBe("k-1");
    expect(get?.["X-CSRF-Token"]).toBeUndefined();
  });

  it("turns a network failure into status 0 with a sentence", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("Failed to fetch"); }));
    const error = (await call("GET", "/me").catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/cannot be reached/);
  });
});

describe("query", () => {
  it("leaves out empty values and encodes the rest", () => {
    expect(query({ status: "", limit: 5, q: "a b", x: undefined })).toBe("?limit=5&q=a%20b");
    expect(query({})).toBe("");
  });
});
