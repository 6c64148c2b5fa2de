// Sender pages (merchant or private customer): post an order with a live quote, follow
// each order's timeline live, confirm the courier's pickup code, rate, report a problem.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, api, type Problem } from "../api/client";
import type { CourierCard, EventPublic, OrderCreate, OrderPublic, PointPublic, QuotePublic, UserPublic } from "../api/types";
import { debounce, useLive } from "../live";
import { MapView, usePoint, type LatLon, type MapMarker } from "../map";
import { Thread } from "../thread";
import { serviceNow } from "../service-clock";
import { coordinateProblem, useChecked, windowProblems } from "../checks";
import { Card, Empty, Field, FormError, ProofPhoto, Status, Tabs, Timeline, asApiError, isoFromLocal, localInput, money, time } from "../ui";

type Tab = "new" | "orders";

const PHONE = /^\+[1-9][0-9]{6,14}$/;

interface OrderDraft {
  pickupText: [string, string] | null; // null: the parcel waits at a pickup point
  deliveryText: [string, string] | null; // null: delivered to a pickup point
  pickupAddress: string | null;
  deliveryAddress: string | null;
  earliestPickup: string; // datetime-local values
  latestDelivery: string;
  receiverName: string;
  receiverPhone: string;
}

/** What the new-order form can tell before posting: empty or bad coordinates, times in the
 * past (by the service's clock, which a demo may run ahead of the browser's) or in the wrong
 * order, a receiver without a name or a phone number the service will not take. */
export function checkOrder(draft: OrderDraft, now: number): Problem[] {
  const problems: Problem[] = [];
  const add = (problem: Problem | null) => problem && problems.push(problem);
  if (draft.pickupText) {
    add(coordinateProblem(draft.pickupText[0], "pickup_lat", 90));
    add(coordinateProblem(draft.pickupText[1], "pickup_lon", 180));
  }
  if (draft.deliveryText) {
    add(coordinateProblem(draft.deliveryText[0], "delivery_lat", 90));
    add(coordinateProblem(draft.deliveryText[1], "delivery_lon", 180));
  }
  if (draft.pickupAddress !== null && !draft.pickupAddress.trim()) add({ field: "pickup_address", problem: "is required" });
  if (draft.deliveryAddress !== null && !draft.deliveryAddress.trim()) add({ field: "delivery_address", problem: "is required" });
  for (const problem of windowProblems(draft.earliestPickup, draft.latestDelivery, ["earliest_pickup", "latest_delivery"], now)) add(problem);
  if (!draft.receiverName.trim()) add({ field: "receiver_name", problem: "is required" });
  if (!PHONE.test(draft.receiverPhone.trim())) {
    add({ field: "receiver_phone", problem: "should be a phone number in international format: + and the country code, e.g. +358401234567" });
  }
  return problems;
}

export function SenderPages({ me }: { me: UserPublic }) {
  const [tab, setTab] = useState<Tab>("orders");
  const [orders, setOrders] = useState<OrderPublic[]>([]);
  const [version, setVersion] = useState(0);
  const reload = async () => {
    setOrders(await api.get<OrderPublic[]>("/orders?limit=200"));
    setVersion((v) => v + 1);
  };
  useEffect(() => void reload(), []);
  const soon = useMemo(() => debounce(() => void reload(), 300), []);
  useLive("/events/stream", soon);
  return (
    <main class="page" id="main">
      <h1>{me.role === "merchant" ? "Shop" : "Send a parcel"}</h1>
      <Tabs label="Sender sections" current={tab} onChange={setTab}
        tabs={[["orders", `My orders (${orders.length})`], ["new", "New order"]]} />
      {tab === "new" && <NewOrder onPosted={async () => { await reload(); setTab("orders"); }} />}
      {tab === "orders" && <OrderList orders={orders} version={version} reload={reload} />}
    </main>
  );
}

function NewOrder({ onPosted }: { onPosted: () => Promise<void> }) {
  const start = new Date(serviceNow() + 10 * 60_000);
  const pickupInput = usePoint();
  const deliveryInput = usePoint();
  const pickup = pickupInput.point;
  const delivery = deliveryInput.point;
  const [picking, setPicking] = useState<"pickup" | "delivery">("pickup");
  const [points, setPoints] = useState<PointPublic[]>([]);
  const [toPoint, setToPoint] = useState<number | null>(null);
  const [fromPoint, setFromPoint] = useState<number | null>(null);
  const [form, setForm] = useState({
    pickup_address: "",
    delivery_address: "",
    earliest_pickup: localInput(start),
    latest_delivery: localInput(new Date(start.getTime() + 3 * 3600_000)),
    size: "small",
    description: "",
    receiver_name: "",
    receiver_phone: "",
    payment_method: "prepaid",
  });
  const [quote, setQuote] = useState<QuotePublic | null>(null);
  const [quoteError, setQuoteError] = useState<ApiError | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // The fields whose own check is shown: once left (blur), and all of them once a post is tried.
  const { checked, leave, checkAll } = useChecked();
  const problems = checkOrder({
    pickupText: fromPoint ? null : pickupInput.text,
    deliveryText: toPoint ? null : deliveryInput.text,
    pickupAddress: fromPoint ? null : form.pickup_address,
    deliveryAddress: toPoint ? null : form.delivery_address,
    earliestPickup: form.earliest_pickup,
    latestDelivery: form.latest_delivery,
    receiverName: form.receiver_name,
    receiverPhone: form.receiver_phone,
  }, serviceNow());
  const mine = problems.filter((p) => checked.has(p.field));
  // The page's own findings first; the service's answer for the fields they do not cover.
  const shown = mine.length === 0 ? error : new ApiError(422, "", [
    ...mine,
    ...(error?.problems ?? []).filter((p) => !mine.some((m) => m.field === p.field)),
  ]);
  const pastPickup = mine.some((p) => p.field === "earliest_pickup" && p.problem.startsWith("is in the past"));
  const readyNow = () => {
    // Keep the window's length: both times move forward together.
    const now = new Date(serviceNow() + 60_000);
    const shift = now.getTime() - new Date(form.earliest_pickup).getTime();
    const deliver = new Date(new Date(form.latest_delivery).getTime() + Math.max(0, shift));
    setForm({ ...form, earliest_pickup: localInput(now), latest_delivery: localInput(deliver) });
  };

  useEffect(() => void api.get<PointPublic[]>("/pickup-points").then(setPoints).catch(() => setPoints([])), []);

  const parcel = () => ({
    pickup_lat: fromPoint ? undefined : pickup?.[0],
    pickup_lon: fromPoint ? undefined : pickup?.[1],
    from_point_id: fromPoint ?? undefined,
    delivery_lat: toPoint ? undefined : delivery?.[0],
    delivery_lon: toPoint ? undefined : delivery?.[1],
    pickup_point_id: toPoint ?? undefined,
    earliest_pickup: isoFromLocal(form.earliest_pickup),
    latest_delivery: isoFromLocal(form.latest_delivery),
    size: form.size as OrderCreate["size"],
  });

  // The live quote: asked again whenever what it depends on changes.
  useEffect(() => {
    const ready = (pickup || fromPoint) && (delivery || toPoint);
    if (!ready) return setQuote(null);
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api.post<QuotePublic>("/quotes", parcel())
        .then((q) => { setQuote(q); setQuoteError(null); })
        .catch((e) => { setQuote(null); setQuoteError(asApiError(e)); });
    }, 250);
    return () => { clearTimeout(timer); controller.abort(); };
  }, [pickup?.[0], pickup?.[1], delivery?.[0], delivery?.[1], toPoint, fromPoint, form.earliest_pickup, form.latest_delivery, form.size]);

  const pick = (at: LatLon) => {
    if (picking === "pickup") { pickupInput.set(at); setFromPoint(null); setPicking("delivery"); }
    else { deliveryInput.set(at); setToPoint(null); setPicking("pickup"); }
  };
  const set = (key: keyof typeof form) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: e.currentTarget.value });
  const submit = async (e: Event) => {
    e.preventDefault();
    if (problems.length > 0) {
      // Refused here, next to the fields, before anything is posted.
      checkAll(problems.map((p) => p.field));
      document.getElementById(`f-${problems[0]?.field}`)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    const body = {
      ...parcel(),
      pickup_address: fromPoint ? undefined : form.pickup_address,
      delivery_address: toPoint ? undefined : form.delivery_address,
      description: form.description,
      receiver_name: form.receiver_name,
      receiver_phone: form.receiver_phone,
      payment_method: form.payment_method as OrderCreate["payment_method"],
    };
    try {
      await api.post<OrderPublic>("/orders", body, crypto.randomUUID());
      await onPosted();
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  const markers: MapMarker[] = [
    ...(pickup && !fromPoint ? [{ id: "p", at: pickup, label: "pickup", color: "#b35c00" }] : []),
    ...(delivery && !toPoint ? [{ id: "d", at: delivery, label: "delivery", color: "#1e7b3a" }] : []),
    ...points.map((p) => ({ id: `pt-${p.id}`, at: [p.lat, p.lon] as LatLon, label: p.name, color: "#5b2a86" })),
  ];
  const fields = ["pickup_lat", "pickup_lon", "delivery_lat", "delivery_lon", "pickup_address", "delivery_address", "earliest_pickup", "latest_delivery", "size", "description", "receiver_name", "receiver_phone", "payment_method", "pickup_point_id", "from_point_id"];
  const coordinate = (which: "pickup" | "delivery", index: 0 | 1, label: string) => {
    const input = which === "pickup" ? pickupInput : deliveryInput;
    const name = `${which}_${index === 0 ? "lat" : "lon"}`;
    return (
      <Field key={name} label={label} name={name} error={shown}>
        {(id, d, invalid) => (
          <input id={id} inputMode="decimal" value={input.text[index]} onBlur={leave(name)}
            aria-describedby={d} aria-invalid={invalid} onInput={(e) => input.type(index, e.currentTarget.value)} />
        )}
      </Field>
    );
  };
  const text = (name: keyof typeof form, label: string, type = "text", hint?: string) => (
    <Field label={label} name={name} error={shown} hint={hint}>
      {(id, d, invalid) => <input id={id} type={type} value={form[name]} aria-describedby={d} aria-invalid={invalid} onInput={set(name)} onBlur={leave(name)} />}
    </Field>
  );
  return (
    <section aria-label="New order" class="two-columns">
      <div>
        <p class="muted">Click the map for the <strong>{picking}</strong> point.</p>
        <MapView label="Pick the pickup and delivery points" markers={markers} onPick={pick} height="440px" />
      </div>
      <form onSubmit={submit} class="stack" aria-label="Order details">
        <FormError error={shown} fields={fields} />
        {points.length > 0 && (
          <div class="grid-wide">
            <Field label="Parcel waits at a pickup point" name="from_point_id" error={shown}>
              {(id, d) => (
                <select id={id} aria-describedby={d} value={fromPoint ?? ""} onChange={(e) => setFromPoint(e.currentTarget.value ? Number(e.currentTarget.value) : null)}>
                  <option value="">No: pick up at the map point</option>
                  {points.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
                </select>
              )}
            </Field>
            <Field label="Deliver to a pickup point" name="pickup_point_id" error={shown}>
              {(id, d) => (
                <select id={id} aria-describedby={d} value={toPoint ?? ""} onChange={(e) => setToPoint(e.currentTarget.value ? Number(e.currentTarget.value) : null)}>
                  <option value="">No: to the map point</option>
                  {points.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
                </select>
              )}
            </Field>
          </div>
        )}
        <FieldsHidden show={!fromPoint}>{text("pickup_address", "Pickup address")}</FieldsHidden>
        <FieldsHidden show={!toPoint}>{text("delivery_address", "Delivery address")}</FieldsHidden>
        {/* Typed coordinates: the same points as map clicks, for keyboards and pasting. */}
        <div class="grid2">
          {!fromPoint && coordinate("pickup", 0, "Pickup latitude")}
          {!fromPoint && coordinate("pickup", 1, "Pickup longitude")}
          {!toPoint && coordinate("delivery", 0, "Delivery latitude")}
          {!toPoint && coordinate("delivery", 1, "Delivery longitude")}
        </div>
        <div class="grid-wide">
          {text("earliest_pickup", "Ready for pickup from", "datetime-local")}
          {text("latest_delivery", "Deliver by", "datetime-local")}
        </div>
        {pastPickup && (
          <p><button type="button" class="link" onClick={readyNow}>Ready now: move both times forward</button></p>
        )}
        <div class="grid2">
          <Field label="Size" name="size" error={shown}>
            {(id, d) => (
              <select id={id} aria-describedby={d} value={form.size} onChange={set("size")}>
                <option value="small">small</option>
                <option value="medium">medium</option>
                <option value="large">large</option>
              </select>
            )}
          </Field>
          <Field label="Payment" name="payment_method" error={shown}>
            {(id, d) => (
              <select id={id} aria-describedby={d} value={form.payment_method} onChange={set("payment_method")}>
                <option value="prepaid">prepaid</option>
                <option value="cash_on_delivery">cash on delivery</option>
              </select>
            )}
          </Field>
        </div>
        {text("description", "What is it")}
        <div class="grid2">
          {text("receiver_name", "Receiver's name")}
          {text("receiver_phone", "Receiver's phone", "tel", "International format, e.g. +358401234567")}
        </div>
        <div class="quote" aria-live="polite" data-testid="quote">
          {quote ? (
            <>
              <strong>{money(quote.fee_cents, quote.currency)}</strong> for {quote.distance_km.toFixed(1)} km
              <ul>
                {Object.entries(quote.breakdown).map(([part, cents]) => <li key={part}>{part.replace(/_/g, " ")}: {money(cents, quote.currency)}</li>)}
              </ul>
            </>
          ) : quoteError ? (
            <span class="field-error">No quote: {quoteError.message}</span>
          ) : (
            <span class="muted">Choose pickup and delivery to see the price.</span>
          )}
        </div>
        <button type="submit" class="primary" disabled={busy}>{busy ? "Posting…" : "Post order"}</button>
      </form>
    </section>
  );
}

function FieldsHidden({ show, children }: { show: boolean; children: preact.ComponentChildren }) {
  return show ? <>{children}</> : null;
}

function OrderList({ orders, version, reload }: { orders: OrderPublic[]; version: number; reload: () => Promise<void> }) {
  if (orders.length === 0) return <Empty>No orders yet. Post one from "New order".</Empty>;
  return (
    <section aria-label="My orders">
      {orders.map((o) => <SentOrder key={o.id} order={o} version={version} reload={reload} />)}
    </section>
  );
}

function SentOrder({ order, version, reload }: { order: OrderPublic; version: number; reload: () => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const [events, setEvents] = useState<EventPublic[]>([]);
  const [courier, setCourier] = useState<CourierCard | null>(null);
  const [code, setCode] = useState("");
  const [stars, setStars] = useState(5);
  const [kind, setKind] = useState("damaged");
  const [note, setNote] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState("");
  useEffect(() => {
    if (!open) return;
    void api.get<EventPublic[]>(`/orders/${order.id}/events`).then(setEvents);
    if (order.trip_id) void api.get<CourierCard>(`/orders/${order.id}/courier`).then(setCourier).catch(() => setCourier(null));
  }, [open, version]);
  const run = async (action: () => Promise<unknown>, message: string) => {
    setError(null);
    try {
      await action();
      setDone(message);
      await reload();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <Card title={<>Order {order.id} <Status status={order.status} /></>}
      actions={<button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>{open ? "Hide" : "Details"}</button>}>
      <p>{order.pickup_address} → {order.delivery_address} · {money(order.fee_cents, order.currency)} · {order.payment_method.replace(/_/g, " ")}</p>
      <p class="muted">For {order.receiver_name} · deliver by {time(order.latest_delivery)}</p>
      {open && (
        <div class="details">
          {courier && <p>Courier: {courier.first_name}{courier.rating ? `, rated ${courier.rating.toFixed(1)}` : ""}{courier.vehicle ? ` · ${courier.vehicle}` : ""}</p>}
          <Timeline events={events} />
          <ProofPhoto orderId={order.id} takenAt={order.proof_photo_at} />
          {order.trip_id && ["accepted", "picked_up"].includes(order.status) && (
            <Thread orderId={order.id} version={version} callTo={["courier"]} />
          )}
          <FormError error={error} fields={["code", "stars", "comment", "kind", "note"]} />
          {done && <p role="status">{done}</p>}
          {order.status === "accepted" && (
            <form class="row" aria-label="Confirm pickup" onSubmit={(e) => { e.preventDefault(); void run(() => api.post(`/orders/${order.id}/pickup`, { code }), "Pickup confirmed; the receiver gets their code by SMS."); }}>
              <Field label="Courier's pickup code" name="code" error={error}>
                {(id, d, invalid) => <input id={id} inputMode="numeric" value={code} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setCode(e.currentTarget.value)} />}
              </Field>
              <button type="submit" class="primary">Confirm pickup</button>
            </form>
          )}
          {(order.status === "posted" || order.status === "offered" || order.status === "accepted") && (
            <button type="button" onClick={() => void run(() => api.post(`/orders/${order.id}/cancel`), "Order cancelled.")}>Cancel order</button>
          )}
          {(order.status === "delivered" || order.status === "settled") && (
            <form class="row" aria-label="Rate the courier" onSubmit={(e) => { e.preventDefault(); void run(() => api.post(`/orders/${order.id}/rating`, { stars }), "Thanks for rating."); }}>
              <Field label="Stars" name="stars" error={error}>
                {(id, d) => (
                  <select id={id} aria-describedby={d} value={stars} onChange={(e) => setStars(Number(e.currentTarget.value))}>
                    {[5, 4, 3, 2, 1].map((s) => <option key={s} value={s}>{s}</option>)}
                  </select>
                )}
              </Field>
              <button type="submit">Rate</button>
            </form>
          )}
          {order.status === "disputed" && <p class="muted">Disputed: the operator is deciding on the problem reported.</p>}
          {/* The service takes a report while a courier carries the parcel or once it is delivered (before settlement). */}
          {["accepted", "picked_up", "delivered"].includes(order.status) && (
            <form class="row" aria-label="Report a problem" onSubmit={(e) => { e.preventDefault(); void run(() => api.post(`/orders/${order.id}/incidents`, { kind, note }), "Reported; the operator will look at it."); }}>
              <Field label="Problem" name="kind" error={error}>
                {(id, d) => (
                  <select id={id} aria-describedby={d} value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
                    {["damaged", "not_received", "courier_no_show", "lost", "wrong_address", "other"].map((k) => <option key={k} value={k}>{k.replace(/_/g, " ")}</option>)}
                  </select>
                )}
              </Field>
              <Field label="Note" name="note" error={error}>
                {(id, d, invalid) => <input id={id} value={note} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setNote(e.currentTarget.value)} />}
              </Field>
              <button type="submit">Report</button>
            </form>
          )}
        </div>
      )}
    </Card>
  );
}
