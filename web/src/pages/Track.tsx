// The receiver's tracking page: reached from the SMS link, no password. It shows this one
// order and nothing of anyone else.
import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "../api/client";
import type { TrackingPublic } from "../api/types";
import { useLive } from "../live";
import { Status, asApiError, time } from "../ui";

const STEPS = ["posted", "accepted", "picked_up", "delivered"];

export function TrackPage({ token }: { token: string }) {
  const [order, setOrder] = useState<TrackingPublic | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = () =>
    api.get<TrackingPublic>(`/track/${encodeURIComponent(token)}`).then(setOrder).catch((e) => setError(asApiError(e)));
  useEffect(() => void load(), [token]);
  useLive(error ? null : `/track/${encodeURIComponent(token)}/stream`, () => void load());
  if (error) {
    return (
      <main class="page phone" id="main">
        <h1>Parcel tracking</h1>
        <p class="form-error" role="alert">{error.status === 404 ? "This tracking link is not valid." : error.message}</p>
      </main>
    );
  }
  if (!order) return <p class="loading">Loading…</p>;
  const reached = STEPS.indexOf(order.status === "offered" ? "posted" : order.status);
  return (
    <main class="page phone" id="main">
      <h1>Your parcel</h1>
      <p class="big"><Status status={order.status} /></p>
      <ol class="progress" aria-label="Delivery progress">
        {STEPS.map((step, i) => (
          <li key={step} class={i <= reached ? "done" : ""} aria-current={i === reached ? "step" : undefined}>
            {step.replace("_", " ")}
          </li>
        ))}
      </ol>
      <dl class="facts">
        <dt>Delivery to</dt><dd>{order.delivery_address}</dd>
        <dt>Expected</dt><dd>between {time(order.earliest_pickup)} and {time(order.latest_delivery)}</dd>
        {order.courier_first_name && (<><dt>Courier</dt><dd>{order.courier_first_name}{order.courier_rating ? `, rated ${order.courier_rating.toFixed(1)} of 5` : ""}</dd></>)}
      </dl>
      {order.door_code ? (
        <p class="code-box">
          {order.status === "picked_up" ? "Give this code to the courier at the door (or at the pickup point):" : "Give this code to collect your parcel:"}{" "}
          <strong class="code" data-testid="door-code">{order.door_code}</strong>
        </p>
      ) : order.status === "picked_up" ? (
        <p class="code-box">Your parcel is on its way. Give the courier the <strong>code from your SMS</strong> at the door.</p>
      ) : null}
    </main>
  );
}
