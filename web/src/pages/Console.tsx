// The operator console (desktop first): live map, KPIs, order and dispatch boards, matching
// runs, couriers, incidents, tariff, money and pickup points.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, api, query } from "../api/client";
import type { components } from "../api/schema";
import type {
  CityMap,
  DayKpis,
  EventPublic,
  IncidentPublic,
  MatchingRunPublic,
  OfferPublic,
  OrderPublic,
  OrderStatus,
  PayoutRunPublic,
  PointPublic,
  QuotePublic,
  Reliability,
  SettlementRunPublic,
  TariffPublic,
  TripPublic,
  UserPublic,
} from "../api/types";
import { debounce, useLive } from "../live";
import { MapView, ORDER_STATES, STATUS_COLOURS, TRIP_STATES, type MapLine } from "../map";
import { serviceNow } from "../service-clock";
import { Card, Empty, Field, FormError, ProofPhoto, Status, TableBox, Tabs, Timeline, asApiError, clock, money, time, words } from "../ui";

type Tab = "map" | "orders" | "dispatch" | "runs" | "couriers" | "incidents" | "tariff" | "money" | "points";

export function Console({ me: _me }: { me: UserPublic }) {
  const [tab, setTab] = useState<Tab>("map");
  const [kpis, setKpis] = useState<DayKpis | null>(null);
  const [version, setVersion] = useState(0);
  const loadKpis = () => api.get<DayKpis>("/console/kpis").then(setKpis);
  useEffect(() => void loadKpis(), []);
  // Many events in a burst (a matching batch) cause one reload, not one per event.
  const changed = useMemo(() => debounce(() => { void loadKpis(); setVersion((v) => v + 1); }, 400), []);
  useLive("/events/stream", changed);
  return (
    <main class="page wide" id="main">
      <h1>Operations</h1>
      <Kpis kpis={kpis} />
      <Tabs label="Console sections" current={tab} onChange={setTab}
        tabs={[["map", "Live map"], ["orders", "Orders"], ["dispatch", "Dispatch"], ["runs", "Matching"], ["couriers", "Couriers"], ["incidents", "Incidents"], ["tariff", "Tariff"], ["money", "Money"], ["points", "Pickup points"]]} />
      {tab === "map" && <LiveMap version={version} />}
      {tab === "orders" && <OrderBoard version={version} />}
      {tab === "dispatch" && <Dispatch version={version} />}
      {tab === "runs" && <Runs version={version} />}
      {tab === "couriers" && <Couriers />}
      {tab === "incidents" && <Incidents version={version} />}
      {tab === "tariff" && <TariffEditor />}
      {tab === "money" && <Money />}
      {tab === "points" && <Points />}
    </main>
  );
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? "–" : `${(x * 100).toFixed(0)} %`;
}

function Kpis({ kpis }: { kpis: DayKpis | null }) {
  if (!kpis) return <p class="loading">Loading today's figures…</p>;
  const items: [string, string][] = [
    ["Orders today", String(kpis.orders)],
    ["Match rate", pct(kpis.match_rate)],
    ["Mean detour", kpis.mean_detour_min === null ? "–" : `${kpis.mean_detour_min.toFixed(1)} min`],
    ["Posting to match", kpis.median_minutes_to_match === null ? "–" : `${kpis.median_minutes_to_match.toFixed(0)} min (median)`],
    ["Delivered", String(kpis.delivered)],
    ["On time", pct(kpis.on_time_rate)],
    ["Open incidents", String(kpis.open_incidents)],
  ];
  return (
    <dl class="kpis" aria-label={`Today's figures (${kpis.day})`} data-testid="kpis">
      {items.map(([label, value]) => (
        <div key={label}><dt>{label}</dt><dd>{value}</dd></div>
      ))}
    </dl>
  );
}

function LiveMap({ version }: { version: number }) {
  const [city, setCity] = useState<CityMap | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  useEffect(() => void api.get<CityMap>("/console/map?limit=20000").then(setCity), [version]);
  const lines = useMemo<MapLine[]>(() => {
    if (!city) return [];
    const { trips, orders } = city;
    const at = (flat: number[], i: number, k: number) => flat[4 * i + k] as number;
    const out: MapLine[] = [];
    trips.id.forEach((id, i) => {
      const status = trips.status[i] as string;
      out.push({
        id: `trip-${id}`,
        from: [at(trips.lines, i, 0), at(trips.lines, i, 1)],
        to: [at(trips.lines, i, 2), at(trips.lines, i, 3)],
        color: STATUS_COLOURS[status] ?? "#333",
        weight: 2,
        title: () => `trip ${id} · ${status} · ${clock(trips.earliest_departure[i])}–${clock(trips.latest_arrival[i])}`,
      });
    });
    orders.id.forEach((id, i) => {
      const status = orders.status[i] as string;
      out.push({
        id: `order-${id}`,
        from: [at(orders.lines, i, 0), at(orders.lines, i, 1)],
        to: [at(orders.lines, i, 2), at(orders.lines, i, 3)],
        color: STATUS_COLOURS[status] ?? "#333",
        dashed: true,
        weight: 3,
        title: `order ${id} · ${status}`,
      });
    });
    return out;
  }, [city]);
  return (
    <section class="two-columns map-layout" aria-label="Live map">
      <div>
        <MapView label="City map: trips (solid) and orders (dashed, pickup to delivery)" lines={lines} onSelect={setSelected} height="560px" />
        <Legend city={city} />
        {city && <p class="muted" data-testid="map-counts">{city.trips.id.length} trips · {city.orders.id.length} orders on the map</p>}
      </div>
      <aside aria-label="Selected" class="side">
        {selected === null && <p class="muted">Click a line on the map for its details.</p>}
        {selected?.startsWith("order-") && <OrderDetails orderId={Number(selected.slice(6))} version={version} />}
        {selected?.startsWith("trip-") && <TripDetails tripId={Number(selected.slice(5))} />}
      </aside>
    </section>
  );
}

/** The map's key, from the same colours the lines are drawn with: every state an order on
 * the map is in (the first four always), and the trips' two. */
function Legend({ city }: { city: CityMap | null }) {
  const present = new Set(city?.orders.status ?? []);
  const orders = ORDER_STATES.filter((s, i) => i < 4 || present.has(s as OrderStatus));
  const item = (state: string, kind: "order" | "trip") => (
    <li key={`${kind}-${state}`} data-state={state} data-kind={kind}>
      <span class={kind === "order" ? "swatch dashed" : "swatch"} style={{ borderTopColor: STATUS_COLOURS[state] }} />{" "}
      {kind === "trip" ? `${state} trip` : words(state)}
    </li>
  );
  return (
    <ul class="legend" aria-label="Colours: orders dashed, trips solid" data-testid="legend">
      {orders.map((s) => item(s, "order"))}
      {TRIP_STATES.map((s) => item(s, "trip"))}
    </ul>
  );
}

export function OrderDetails({ orderId, version }: { orderId: number; version: number }) {
  const [order, setOrder] = useState<OrderPublic | null>(null);
  const [events, setEvents] = useState<EventPublic[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    void api.get<OrderPublic>(`/orders/${orderId}`).then(setOrder).catch((e) => setError(asApiError(e)));
    void api.get<EventPublic[]>(`/orders/${orderId}/events`).then(setEvents).catch(() => setEvents([]));
  }, [orderId, version]);
  if (error) return <p class="form-error" role="alert">{error.message}</p>;
  if (!order) return <p class="loading">Loading…</p>;
  return (
    <div>
      <h2>Order {order.id} <Status status={order.status} /></h2>
      <p>{order.pickup_address} → {order.delivery_address}</p>
      <p class="muted">{money(order.fee_cents, order.currency)} · {order.size} · {order.payment_method.replace(/_/g, " ")} · by {time(order.latest_delivery)}</p>
      {order.trip_id && <p>On trip {order.trip_id}</p>}
      {order.locked && <p class="form-error">Locked after wrong codes.</p>}
      <Timeline events={events} />
      <ProofPhoto orderId={order.id} takenAt={order.proof_photo_at} />
    </div>
  );
}

function TripDetails({ tripId }: { tripId: number }) {
  const [trip, setTrip] = useState<TripPublic | null>(null);
  useEffect(() => void api.get<TripPublic>(`/trips/${tripId}`).then(setTrip), [tripId]);
  if (!trip) return <p class="loading">Loading…</p>;
  return (
    <div>
      <h2>Trip {trip.id} <Status status={trip.status} /></h2>
      <p>Courier {trip.courier_id} · {trip.vehicle}</p>
      <p class="muted">Leaves {time(trip.earliest_departure)}, arrives by {time(trip.latest_arrival)}</p>
    </div>
  );
}

const STATUSES: OrderStatus[] = ["posted", "offered", "accepted", "picked_up", "delivered", "disputed", "settled", "expired", "cancelled", "failed"];

function OrderBoard({ version }: { version: number }) {
  const [status, setStatus] = useState<string>("");
  const [search, setSearch] = useState("");
  const [orders, setOrders] = useState<OrderPublic[]>([]);
  const [selected, setSelected] = useState<number | null>(null);
  useEffect(() => void api.get<OrderPublic[]>(`/orders${query({ status, limit: 500 })}`).then(setOrders), [status, version]);
  // On a narrow screen the details are under the list: bring them into view.
  const choose = (id: number) => {
    setSelected(id);
    if (matchMedia("(max-width: 800px)").matches) {
      requestAnimationFrame(() => document.getElementById("order-details")?.scrollIntoView({ block: "start" }));
    }
  };
  const needle = search.trim().toLowerCase();
  const shown = needle
    ? orders.filter((o) => [String(o.id), o.pickup_address, o.delivery_address, o.receiver_name, o.receiver_phone].some((v) => v.toLowerCase().includes(needle)))
    : orders;
  return (
    <section aria-label="Orders" class="two-columns">
      <div>
        <div class="row filters">
          <Field label="State" name="status-filter" error={null}>
            {(id) => (
              <select id={id} value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
                <option value="">all</option>
                {STATUSES.map((s) => <option key={s} value={s}>{s.replace("_", " ")}</option>)}
              </select>
            )}
          </Field>
          <Field label="Search" name="search" error={null}>
            {(id) => <input id={id} type="search" value={search} placeholder="id, address, receiver" onInput={(e) => setSearch(e.currentTarget.value)} />}
          </Field>
        </div>
        <TableBox label="Orders">
          <table class="table stacked">
            <caption>{shown.length} orders</caption>
            <thead><tr><th scope="col">Order</th><th scope="col">State</th><th scope="col">From → to</th><th scope="col">Deliver by</th><th scope="col">Fee</th></tr></thead>
            <tbody>
              {shown.map((o) => (
                <tr key={o.id} class={o.id === selected ? "selected" : ""}>
                  <td data-label="Order"><button type="button" class="link" onClick={() => choose(o.id)}>#{o.id}</button></td>
                  <td data-label="State"><Status status={o.status} /></td>
                  <td data-label="From → to">{o.pickup_address} → {o.delivery_address}</td>
                  <td data-label="Deliver by">{time(o.latest_delivery)}</td>
                  <td data-label="Fee">{money(o.fee_cents, o.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      </div>
      <aside class="side" aria-label="Order details" id="order-details">
        {selected ? <OrderDetails orderId={selected} version={version} /> : <p class="muted">Choose an order.</p>}
      </aside>
    </section>
  );
}

function Dispatch({ version }: { version: number }) {
  const [orders, setOrders] = useState<OrderPublic[]>([]);
  const [trips, setTrips] = useState<TripPublic[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState("");
  const [choice, setChoice] = useState<Record<number, string>>({});
  const [answering, setAnswering] = useState<Set<number>>(new Set()); // trips with an offer out
  const load = async () => {
    // Open orders: waiting, or offered but not yet answered (the operator may step in).
    // Trips that may take one more: open ones, and assigned ones that can carry more than
    // one parcel (the service re-plans the whole route and says why when it does not fit).
    const [posted, offered, open, assigned, waiting] = await Promise.all([
      api.get<OrderPublic[]>("/orders?status=posted&limit=200"),
      api.get<OrderPublic[]>("/orders?status=offered&limit=200"),
      api.get<TripPublic[]>("/trips?status=open&limit=200"),
      api.get<TripPublic[]>("/trips?status=assigned&limit=200"),
      api.get<OfferPublic[]>("/offers?status=pending&limit=1000"),
    ]);
    setOrders([...posted, ...offered].sort((a, b) => a.id - b.id));
    setAnswering(new Set(waiting.map((o) => o.trip_id)));
    const taking = [...open, ...assigned.filter((trip) => trip.capacity > 1)];
    setTrips(taking.filter((trip) => new Date(trip.latest_arrival).getTime() > serviceNow()).sort((a, b) => a.id - b.id));
  };
  useEffect(() => void load(), [version]);
  const offer = async (orderId: number, tripId: number) => {
    setError(null);
    setDone("");
    try {
      await api.post("/matching/offers", { order_id: orderId, trip_id: tripId });
      setDone(`Order ${orderId} is offered to trip ${tripId}; its courier has been told.`);
    } catch (err) {
      setError(asApiError(err, orders.find((o) => o.id === orderId)?.status));
    }
    await load();
  };
  return (
    <section aria-label="Dispatch board">
      <p class="muted">Drag an open order onto a trip to offer it to its courier (or choose the trip and press Offer). The service checks that it fits and says why when it does not.</p>
      <FormError error={error} fields={["trip_id"]} />
      {error?.forField("trip_id") && <p class="field-error" role="alert" data-field="trip_id">{error.forField("trip_id")}</p>}
      {done && <p role="status" data-testid="notice">{done}</p>}
      <div class="board">
        {/* Each side scrolls on its own; focusable so the keyboard can scroll it too. */}
        <div class="column" tabIndex={0} role="region" aria-label="Open orders">
          <h2>Open orders ({orders.length})</h2>
          {orders.length === 0 && <Empty>No open orders.</Empty>}
          {orders.map((o) => (
            <div key={o.id} class="ticket" data-order={o.id} draggable onDragStart={(e) => e.dataTransfer?.setData("text/plain", String(o.id))}>
              <strong>#{o.id}</strong> <Status status={o.status} /> {o.pickup_address} → {o.delivery_address}
              <div class="row">
                <label class="sr-only" for={`assign-${o.id}`}>Trip for order {o.id}</label>
                <select id={`assign-${o.id}`} value={choice[o.id] ?? ""} onChange={(e) => setChoice({ ...choice, [o.id]: e.currentTarget.value })}>
                  <option value="">trip…</option>
                  {trips.filter((t) => !answering.has(t.id)).map((t) => <option key={t.id} value={t.id}>trip {t.id}</option>)}
                </select>
                <button type="button" disabled={!choice[o.id]} onClick={() => void offer(o.id, Number(choice[o.id]))}>Offer</button>
              </div>
            </div>
          ))}
        </div>
        <div class="trips-columns" tabIndex={0} role="region" aria-label="Trips that can take an order">
          {trips.map((t) => (
            <div key={t.id} class={answering.has(t.id) ? "column drop answering" : "column drop"} data-trip={t.id}
              onDragOver={(e) => e.preventDefault()}
              onDrop={(e) => { e.preventDefault(); const id = Number(e.dataTransfer?.getData("text/plain")); if (id) void offer(id, t.id); }}>
              <h3>Trip {t.id}</h3>
              {answering.has(t.id) && <p class="muted">an offer waits for its answer</p>}
              <p class="muted">courier {t.courier_id} · {clock(t.earliest_departure)}–{clock(t.latest_arrival)}{t.vehicle ? ` · ${t.vehicle}` : ""}</p>
              {t.status === "assigned" && <p class="muted">carries orders · capacity {t.capacity}</p>}
            </div>
          ))}
          {trips.length === 0 && <Empty>No trip can take an order now.</Empty>}
        </div>
      </div>
    </section>
  );
}

function Runs({ version }: { version: number }) {
  const [runs, setRuns] = useState<MatchingRunPublic[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const load = () => api.get<MatchingRunPublic[]>("/matching/runs?limit=200").then(setRuns);
  useEffect(() => void load(), [version]);
  const run = async () => {
    setError(null);
    try {
      await api.post("/matching/run");
    } catch (err) {
      setError(asApiError(err));
    }
    await load();
  };
  const ordered = [...runs].reverse();
  return (
    <section aria-label="Matching runs">
      <div class="row"><button type="button" class="primary" onClick={run}>Run matching now</button></div>
      <FormError error={error} />
      <RateChart runs={ordered} />
      <TableBox label="Matching runs">
        <table class="table">
          <caption>Matching runs, newest first</caption>
          <thead><tr><th scope="col">Run</th><th scope="col">Started</th><th scope="col">Trigger</th><th scope="col">Open orders</th><th scope="col">Free trips</th><th scope="col">Feasible pairs</th><th scope="col">Offers</th><th scope="col">Accepted</th><th scope="col">Rejected</th><th scope="col">Expired</th><th scope="col">Detour (min)</th><th scope="col">Seconds</th></tr></thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td><td>{time(r.started_at)}</td><td>{r.trigger}</td><td>{r.open_orders}</td><td>{r.free_trips}</td>
                <td>{r.feasible_pairs}</td><td>{r.offers}</td><td>{r.accepted}</td><td>{r.rejected}</td><td>{r.expired}</td><td>{r.total_detour_min.toFixed(1)}</td>
                <td>{(r.load_s + r.match_s + r.write_s).toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableBox>
    </section>
  );
}

/** Each run's match rate through the day: accepted / open orders (solid) and offered / open
 * orders (dashed), as SVG lines. */
function RateChart({ runs }: { runs: MatchingRunPublic[] }) {
  if (runs.length < 2) return <p class="muted">The chart appears after two runs.</p>;
  const w = 640, h = 170, pad = 30;
  const t0 = new Date(runs[0]!.started_at).getTime();
  const t1 = new Date(runs[runs.length - 1]!.started_at).getTime();
  const x = (iso: string) => pad + ((new Date(iso).getTime() - t0) / Math.max(1, t1 - t0)) * (w - 2 * pad);
  const y = (rate: number) => h - pad - Math.min(1, rate) * (h - 2 * pad);
  const line = (part: (r: MatchingRunPublic) => number) =>
    runs.map((r) => `${x(r.started_at).toFixed(1)},${y(r.open_orders ? part(r) / r.open_orders : 0).toFixed(1)}`).join(" ");
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label="Match rate of each matching run through the day: accepted and offered shares of the open orders">
        <line x1={pad} y1={h - pad} x2={w - pad} y2={h - pad} stroke="#555" />
        <line x1={pad} y1={pad} x2={pad} y2={h - pad} stroke="#555" />
        <text x={2} y={pad + 4} font-size="11">100%</text>
        <text x={8} y={h - pad} font-size="11">0%</text>
        <text x={pad} y={h - 10} font-size="11">{clock(runs[0]!.started_at)}</text>
        <text x={w - pad - 30} y={h - 10} font-size="11">{clock(runs[runs.length - 1]!.started_at)}</text>
        <polyline points={line((r) => r.offers)} fill="none" stroke={STATUS_COLOURS.offered} stroke-width="1.5" stroke-dasharray="5 4" />
        <polyline points={line((r) => r.accepted)} fill="none" stroke="#1f4e9c" stroke-width="2.5" />
      </svg>
      <figcaption>Per run: accepted / open orders (solid blue), offered / open orders (dashed).</figcaption>
    </figure>
  );
}

function Couriers() {
  const [couriers, setCouriers] = useState<Reliability[]>([]);
  const [reason, setReason] = useState<Record<number, string>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const load = () => api.get<Reliability[]>("/couriers").then(setCouriers);
  useEffect(() => void load(), []);
  const act = async (c: Reliability, how: "suspend" | "reinstate") => {
    setError(null);
    try {
      await api.post(`/couriers/${c.courier_id}/${how}`, how === "suspend" ? { reason: reason[c.courier_id] ?? "" } : undefined);
    } catch (err) {
      setError(asApiError(err));
    }
    await load();
  };
  return (
    <section aria-label="Couriers">
      <AssessmentPolicy />
      <FormError error={error} fields={["reason"]} />
      {error?.forField("reason") && <p class="field-error" role="alert">Reason: {error.forField("reason")}</p>}
      <TableBox label="Couriers">
        <table class="table stacked">
          <caption>{couriers.length} couriers</caption>
          <thead><tr><th scope="col">Courier</th><th scope="col">Assessment</th><th scope="col">Rating</th><th scope="col">Offers</th><th scope="col">Accepted</th><th scope="col">Delivered</th><th scope="col">Withdrawals</th><th scope="col">Incidents</th><th scope="col">Status</th><th scope="col">Action</th></tr></thead>
          <tbody>
            {couriers.map((c) => (
              <tr key={c.courier_id}>
                <td data-label="Courier">{c.name}<br /><small>{c.email}</small></td>
                <td data-label="Assessment">{c.assessment_passed_at ? "passed" : "not yet"}</td>
                <td data-label="Rating">{c.rating.toFixed(2)} ({c.ratings})</td>
                <td data-label="Offers">{c.offers}</td><td data-label="Accepted">{c.accepted}</td>
                <td data-label="Delivered">{c.delivered}</td><td data-label="Withdrawals">{c.withdrawals}</td>
                <td data-label="Incidents">{c.incidents}</td>
                <td data-label="Status">{c.suspended_at ? `suspended: ${c.suspension_reason}` : "active"}</td>
                <td data-label="Action">
                  {c.suspended_at ? (
                    <button type="button" onClick={() => void act(c, "reinstate")}>Reinstate</button>
                  ) : (
                    <div class="row">
                      <label class="sr-only" for={`reason-${c.courier_id}`}>Reason to suspend {c.name}</label>
                      <input id={`reason-${c.courier_id}`} placeholder="reason" value={reason[c.courier_id] ?? ""} onInput={(e) => setReason({ ...reason, [c.courier_id]: e.currentTarget.value })} />
                      <button type="button" onClick={() => void act(c, "suspend")}>Suspend</button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableBox>
    </section>
  );
}

function Incidents({ version }: { version: number }) {
  const [items, setItems] = useState<IncidentPublic[]>([]);
  const [note, setNote] = useState<Record<number, string>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const load = () => api.get<IncidentPublic[]>("/incidents?open_only=true").then(setItems);
  useEffect(() => void load(), [version]);
  const resolve = async (incident: IncidentPublic, resolution: "pay" | "refund" | "close") => {
    setError(null);
    try {
      await api.post(`/incidents/${incident.id}/resolve`, { resolution, note: note[incident.id] ?? "" });
    } catch (err) {
      setError(asApiError(err));
    }
    await load();
  };
  return (
    <section aria-label="Incidents and disputes">
      <FormError error={error} />
      {items.length === 0 && <Empty>No open incidents.</Empty>}
      {items.map((i) => (
        <Card key={i.id} title={`Incident ${i.id}: ${i.kind.replace(/_/g, " ")} (order ${i.order_id})`}>
          <p>Reported by the {i.reporter_role} at {time(i.created_at)} while the order was {i.order_status}. {i.note}</p>
          <div class="row">
            <label class="sr-only" for={`note-${i.id}`}>Decision note for incident {i.id}</label>
            <input id={`note-${i.id}`} placeholder="note" value={note[i.id] ?? ""} onInput={(e) => setNote({ ...note, [i.id]: e.currentTarget.value })} />
            <button type="button" onClick={() => void resolve(i, "pay")}>Pay the courier</button>
            <button type="button" onClick={() => void resolve(i, "refund")}>Refund the sender</button>
            <button type="button" onClick={() => void resolve(i, "close")}>Close</button>
          </div>
        </Card>
      ))}
    </section>
  );
}

function TariffEditor() {
  const [tariff, setTariff] = useState<TariffPublic | null>(null);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState("");
  const [preview, setPreview] = useState<QuotePublic | null>(null);
  const load = async () => {
    const t = await api.get<TariffPublic>("/pricing");
    setTariff(t);
    setDraft({
      base_cents: String(t.base_cents),
      per_km_cents: String(t.per_km_cents),
      courier_share_pct: String(t.courier_share_pct),
      peak_multiplier: String(t.peak_multiplier),
      urgent_surcharge_cents: String(t.urgent_surcharge_cents),
      urgent_window_min: String(t.urgent_window_min),
      medium: String(t.size_surcharge_cents.medium ?? 0),
      large: String(t.size_surcharge_cents.large ?? 0),
    });
  };
  const quote = async () => {
    const start = new Date(serviceNow() + 30 * 60_000);
    setPreview(await api.post<QuotePublic>("/quotes", {
      pickup_lat: 60.1699, pickup_lon: 24.9384, delivery_lat: 60.1841, delivery_lon: 24.9586,
      earliest_pickup: start.toISOString(), latest_delivery: new Date(start.getTime() + 4 * 3600_000).toISOString(), size: "medium",
    }));
  };
  useEffect(() => { void load(); void quote(); }, []);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved("");
    if (!tariff) return;
    try {
      const next = await api.put<TariffPublic>("/pricing", {
        base_cents: Number(draft.base_cents),
        per_km_cents: Number(draft.per_km_cents),
        courier_share_pct: Number(draft.courier_share_pct),
        peak_multiplier: Number(draft.peak_multiplier),
        peak_windows: tariff.peak_windows,
        urgent_surcharge_cents: Number(draft.urgent_surcharge_cents),
        urgent_window_min: Number(draft.urgent_window_min),
        size_surcharge_cents: { small: tariff.size_surcharge_cents.small ?? 0, medium: Number(draft.medium), large: Number(draft.large) },
      });
      setSaved(`Tariff version ${next.version} is in force.`);
      await load();
      await quote();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  if (!tariff) return <p class="loading">Loading…</p>;
  const input = (name: string, label: string, hint?: string) => (
    <Field key={name} label={label} name={name} error={error} hint={hint}>
      {(id, d, invalid) => <input id={id} inputMode="decimal" value={draft[name] ?? ""} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setDraft({ ...draft, [name]: e.currentTarget.value })} />}
    </Field>
  );
  return (
    <section aria-label="Tariff" class="two-columns">
      <form onSubmit={save} class="stack" aria-label="Tariff editor">
        <h2>Tariff (version {tariff.version})</h2>
        <FormError error={error} fields={["base_cents", "per_km_cents", "courier_share_pct", "peak_multiplier", "urgent_surcharge_cents", "urgent_window_min", "medium", "large"]} />
        <div class="grid2">
          {input("base_cents", "Base (cents)")}
          {input("per_km_cents", "Per km (cents)")}
          {input("courier_share_pct", "Courier's share (%)")}
          {input("peak_multiplier", "Peak multiplier")}
          {input("urgent_surcharge_cents", "Urgent surcharge (cents)")}
          {input("urgent_window_min", "Urgent below (minutes)")}
          {input("medium", "Medium parcel surcharge (cents)")}
          {input("large", "Large parcel surcharge (cents)")}
        </div>
        <button type="submit" class="primary">Save tariff</button>
        {saved && <p role="status">{saved}</p>}
      </form>
      <aside class="side" aria-label="Quote preview">
        <h2>Quote preview</h2>
        <p class="muted">A medium parcel from the Railway Square to Kallio, 4 hours.</p>
        {preview && (
          <div data-testid="tariff-preview">
            <strong>{money(preview.fee_cents, preview.currency)}</strong> (tariff {preview.tariff_version})
            <ul>{Object.entries(preview.breakdown).map(([k, v]) => <li key={k}>{k.replace(/_/g, " ")}: {money(v, preview.currency)}</li>)}</ul>
          </div>
        )}
      </aside>
    </section>
  );
}

function Money() {
  const [settlements, setSettlements] = useState<SettlementRunPublic[]>([]);
  const [payouts, setPayouts] = useState<PayoutRunPublic[]>([]);
  const [balances, setBalances] = useState<Record<string, number>>({});
  const [day, setDay] = useState(new Date(serviceNow() - 86_400_000).toISOString().slice(0, 10));
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState("");
  const load = async () => {
    const [s, p, b] = await Promise.all([
      api.get<SettlementRunPublic[]>("/settlement/runs"),
      api.get<PayoutRunPublic[]>("/payouts/runs"),
      api.get<Record<string, number>>("/ledger/balances"),
    ]);
    setSettlements(s);
    setPayouts(p);
    setBalances(b);
  };
  useEffect(() => void load(), []);
  const run = async (path: string, message: string) => {
    setError(null);
    setDone("");
    try {
      await api.post(path, { day });
      setDone(message);
    } catch (err) {
      setError(asApiError(err));
    }
    await load();
  };
  return (
    <section aria-label="Money">
      <form class="row" onSubmit={(e) => e.preventDefault()} aria-label="Runs">
        <Field label="Day" name="day" error={error}>
          {(id, d, invalid) => <input id={id} type="date" value={day} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setDay(e.currentTarget.value)} />}
        </Field>
        <button type="button" onClick={() => void run("/settlement/runs", `Settled ${day}.`)}>Settle the day</button>
        <button type="button" onClick={() => void run("/payouts/runs", `Paid what is due by ${day}.`)}>Run payouts</button>
      </form>
      <FormError error={error} fields={["day"]} />
      {done && <p role="status">{done}</p>}
      <div class="two-columns">
        <TableBox label="Settlement runs">
          <table class="table">
            <caption>Settlement runs</caption>
            <thead><tr><th scope="col">Day</th><th scope="col">Orders</th><th scope="col">Held back</th><th scope="col">Total</th></tr></thead>
            <tbody>{settlements.map((s) => <tr key={s.id}><td>{s.day}</td><td>{s.orders}</td><td>{s.held_back}</td><td>{money(s.total_cents)}</td></tr>)}</tbody>
          </table>
        </TableBox>
        <TableBox label="Payout runs">
          <table class="table">
            <caption>Payout runs</caption>
            <thead><tr><th scope="col">Day</th><th scope="col">Couriers</th><th scope="col">Total</th><th scope="col">File</th></tr></thead>
            <tbody>{payouts.map((p) => <tr key={p.id}><td>{p.day}</td><td>{p.couriers}</td><td>{money(p.total_cents)}</td><td><a href={`/payouts/runs/${p.id}/csv`} download>CSV</a></td></tr>)}</tbody>
          </table>
        </TableBox>
      </div>
      <TableBox label="Ledger balances">
        <table class="table">
          <caption>Ledger balances</caption>
          <thead><tr><th scope="col">Account</th><th scope="col">Balance</th></tr></thead>
          <tbody>{Object.entries(balances).map(([account, cents]) => <tr key={account}><td>{account}</td><td>{money(cents)}</td></tr>)}</tbody>
        </table>
      </TableBox>
    </section>
  );
}

function Points() {
  const [points, setPoints] = useState<PointPublic[]>([]);
  const [form, setForm] = useState({ name: "", address: "", lat: "", lon: "", open: "08:00", close: "20:00" });
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState("");
  const load = () => api.get<PointPublic[]>("/pickup-points").then(setPoints);
  useEffect(() => void load(), []);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    try {
      await api.post("/pickup-points", {
        name: form.name, address: form.address, lat: Number(form.lat), lon: Number(form.lon),
        opening_hours: Object.fromEntries(days.map((d) => [d, [[form.open, form.close]]])),
      });
      setDone(`Pickup point ${form.name} added.`);
      await load();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  const input = (name: keyof typeof form, label: string, type = "text") => (
    <Field key={name} label={label} name={name} error={error}>
      {(id, d, invalid) => <input id={id} type={type} value={form[name]} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })} />}
    </Field>
  );
  return (
    <section aria-label="Pickup points" class="two-columns">
      <div>
        {points.map((p) => <PointCard key={p.id} point={p} reload={load} />)}
      </div>
      <form onSubmit={save} class="stack" aria-label="New pickup point">
        <h2>Add a pickup point</h2>
        <FormError error={error} fields={["name", "address", "lat", "lon", "opening_hours"]} />
        {input("name", "Name")}
        {input("address", "Address")}
        <div class="grid2">{input("lat", "Latitude")}{input("lon", "Longitude")}</div>
        <div class="grid2">{input("open", "Opens (every day)", "time")}{input("close", "Closes", "time")}</div>
        <button type="submit" class="primary">Add point</button>
        {done && <p role="status">{done}</p>}
      </form>
    </section>
  );
}

function PointCard({ point, reload }: { point: PointPublic; reload: () => Promise<unknown> }) {
  const [staff, setStaff] = useState({ name: "", email: "", phone: "", password: "" });
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState("");
  const run = async (action: () => Promise<unknown>, message: string) => {
    setError(null);
    setDone("");
    try {
      await action();
      setDone(message);
      await reload();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  const field = (name: keyof typeof staff, label: string, type = "text") => (
    <Field key={name} label={`${label} (staff of ${point.name})`} name={name} idSuffix={`-point-${point.id}`} error={error}>
      {(id, d, invalid) => <input id={id} type={type} value={staff[name]} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setStaff({ ...staff, [name]: e.currentTarget.value })} />}
    </Field>
  );
  return (
    <Card title={<>{point.name} {point.active ? "" : <Status status="cancelled" />}</>}
      actions={
        <button type="button" onClick={() => void run(() => api.patch(`/pickup-points/${point.id}`, { active: !point.active }), point.active ? "Closed to new parcels." : "Open again.")}>
          {point.active ? "Close to new parcels" : "Reopen"}
        </button>
      }>
      <p>{point.address}</p>
      <p class="muted">{Object.entries(point.opening_hours).map(([d, spans]) => `${d} ${spans.map((s) => s.join("–")).join(", ")}`).join(" · ")}</p>
      <HoursEditor point={point} reload={reload} />
      <details>
        <summary>Add a staff member</summary>
        <form class="grid2" aria-label={`New staff of ${point.name}`} onSubmit={(e) => { e.preventDefault(); void run(() => api.post(`/pickup-points/${point.id}/staff`, staff), `${staff.name} can now sign in at ${point.name}.`); }}>
          <FormError error={error} fields={["name", "email", "phone", "password"]} />
          {field("name", "Name")}
          {field("email", "Email", "email")}
          {field("phone", "Phone", "tel")}
          {field("password", "Password", "password")}
          <button type="submit">Add staff</button>
        </form>
      </details>
      {done && <p role="status">{done}</p>}
    </Card>
  );
}

type Policy = components["schemas"]["PolicyPublic"];

/** The onboarding assessment's rules in force: pass mark, questions per attempt, the wait
 * after a failure; the bank's size and topics. */
function AssessmentPolicy() {
  const [policy, setPolicy] = useState<Policy | null>(null);
  const [draft, setDraft] = useState({ pass_mark: "", questions_per_attempt: "", retry_after_min: "" });
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState("");
  const show = (p: Policy) => {
    setPolicy(p);
    setDraft({ pass_mark: String(p.pass_mark), questions_per_attempt: String(p.questions_per_attempt), retry_after_min: String(p.retry_after_min) });
  };
  useEffect(() => void api.get<Policy>("/assessment/policy").then(show), []);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone("");
    try {
      show(await api.put<Policy>("/assessment/policy", {
        pass_mark: Number(draft.pass_mark),
        questions_per_attempt: Number(draft.questions_per_attempt),
        retry_after_min: Number(draft.retry_after_min),
      }));
      setDone("The new rules apply to the next attempts.");
    } catch (err) {
      setError(asApiError(err));
    }
  };
  if (!policy) return null;
  const input = (name: keyof typeof draft, label: string) => (
    <Field key={name} label={label} name={name} error={error}>
      {(id, d, invalid) => <input id={id} inputMode="numeric" value={draft[name]} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setDraft({ ...draft, [name]: e.currentTarget.value })} />}
    </Field>
  );
  return (
    <details class="card">
      <summary>Onboarding assessment: {policy.pass_mark} of {policy.questions_per_attempt} to pass, {policy.retry_after_min} min after a failure (bank of {policy.bank_size}: {policy.topics.join(", ")})</summary>
      <form class="grid2" onSubmit={save} aria-label="Assessment rules">
        <FormError error={error} fields={["pass_mark", "questions_per_attempt", "retry_after_min"]} />
        {input("pass_mark", "Right answers to pass")}
        {input("questions_per_attempt", "Questions per attempt")}
        {input("retry_after_min", "Wait after a failure (min)")}
        <button type="submit">Save rules</button>
      </form>
      {done && <p role="status">{done}</p>}
    </details>
  );
}

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** Change a point's opening hours: one span a day, the same every day, or closed days. */
function HoursEditor({ point, reload }: { point: PointPublic; reload: () => Promise<unknown> }) {
  const first = Object.values(point.opening_hours)[0]?.[0] ?? ["08:00", "20:00"];
  const [open, setOpen] = useState(first[0] ?? "08:00");
  const [close, setClose] = useState(first[1] ?? "20:00");
  const [days, setDays] = useState<string[]>(DAYS.filter((d) => (point.opening_hours[d] ?? []).length > 0));
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState("");
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone("");
    try {
      await api.patch(`/pickup-points/${point.id}`, {
        opening_hours: Object.fromEntries(DAYS.map((d) => [d, days.includes(d) ? [[open, close]] : []])),
      });
      setDone("Opening hours saved.");
      await reload();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <details>
      <summary>Change opening hours</summary>
      <form class="stack" onSubmit={save} aria-label={`Opening hours of ${point.name}`}>
        <FormError error={error} fields={["opening_hours"]} />
        {error?.forField("opening_hours") && <p class="field-error" role="alert">{error.forField("opening_hours")}</p>}
        <fieldset>
          <legend>Open on</legend>
          {DAYS.map((d) => (
            <label key={d} class="choice">
              <input type="checkbox" checked={days.includes(d)} onChange={() => setDays(days.includes(d) ? days.filter((x) => x !== d) : [...days, d])} />
              {d}
            </label>
          ))}
        </fieldset>
        <div class="grid2">
          <Field label={`Opens (${point.name})`} name="open" idSuffix={`-hours-${point.id}`} error={null}>
            {(id) => <input id={id} type="time" value={open} onInput={(e) => setOpen(e.currentTarget.value)} />}
          </Field>
          <Field label={`Closes (${point.name})`} name="close" idSuffix={`-hours-${point.id}`} error={null}>
            {(id) => <input id={id} type="time" value={close} onInput={(e) => setClose(e.currentTarget.value)} />}
          </Field>
        </div>
        <button type="submit">Save hours</button>
        {done && <p role="status">{done}</p>}
      </form>
    </details>
  );
}
