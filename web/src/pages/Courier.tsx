// The courier app (phone first): assessment, trips, offers, open orders, the parcels on
// board, and the wallet.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, api, type Problem } from "../api/client";
import type {
  AssessmentPublic,
  Assignment,
  AttemptPublic,
  FittingOrder,
  OfferPublic,
  OrderPublic,
  RouteStop,
  TripCreate,
  TripPublic,
  TripRoute,
  UserPublic,
  WalletPublic,
} from "../api/types";
import { useLive } from "../live";
import { MapView, STATUS_COLOURS, usePoint, type LatLon, type MapLine, type MapMarker } from "../map";
import { coordinateProblem, useChecked, windowProblems } from "../checks";
import { act, flush, pending } from "../offline";
import { shrinkPhoto } from "../photo";
import { Thread } from "../thread";
import { loadRules, serviceNow, type Rules } from "../service-clock";
import { Card, Countdown, Empty, Field, FormError, Status, Tabs, asApiError, clock, isoFromLocal, localInput, money, time } from "../ui";

type Tab = "offers" | "trips" | "open" | "carrying" | "wallet";
const CODES = "crowdship.pickup-codes"; // the codes this phone was given, by order id

const PAGE = 100; // trips asked for at a time (GET /trips pages with limit and offset)

/** A coming trip: it carries orders, or it is open and not yet due to arrive (an open trip
 * past its latest arrival can carry nothing any more). The service's rule (GET /trips). */
export function isComing(trip: TripPublic, now: number): boolean {
  return trip.status === "assigned" || (trip.status === "open" && new Date(trip.latest_arrival).getTime() > now);
}

/** Trips as a courier reads them, in GET /trips's order: the coming ones first, the next
 * to leave on top (by departure, then id: never by the id's digits); then the done,
 * cancelled and past ones, the latest first. */
export function tripsInOrder(trips: TripPublic[], now: number): TripPublic[] {
  const leaves = (t: TripPublic) => new Date(t.earliest_departure).getTime();
  const current = trips.filter((t) => isComing(t, now)).sort((a, b) => leaves(a) - leaves(b) || a.id - b.id);
  const past = trips.filter((t) => !isComing(t, now)).sort((a, b) => leaves(b) - leaves(a) || b.id - a.id);
  return [...current, ...past];
}

/** The first `count` trips of GET /trips (the coming ones first), a page at a time; and
 * whether there are more. */
async function loadTrips(count: number): Promise<{ trips: TripPublic[]; more: boolean }> {
  const trips: TripPublic[] = [];
  for (let offset = 0; offset < count; offset += PAGE) {
    const page = await api.get<TripPublic[]>(`/trips?limit=${PAGE}&offset=${offset}`);
    trips.push(...page);
    if (page.length < PAGE) return { trips, more: false };
  }
  return { trips, more: true };
}

interface TripDraft {
  originText: [string, string];
  destinationText: [string, string];
  depart: string; // datetime-local values
  arrive: string;
  capacity: string;
}

/** What the register-trip form can tell before posting: empty or bad coordinates, a leave
 * time in the past (by the service's clock), an arrive-by not after it, a capacity outside
 * 1 to 4. */
export function checkTrip(draft: TripDraft, now: number): Problem[] {
  const problems: Problem[] = [];
  const add = (problem: Problem | null) => problem && problems.push(problem);
  add(coordinateProblem(draft.originText[0], "origin_lat", 90));
  add(coordinateProblem(draft.originText[1], "origin_lon", 180));
  add(coordinateProblem(draft.destinationText[0], "destination_lat", 90));
  add(coordinateProblem(draft.destinationText[1], "destination_lon", 180));
  problems.push(...windowProblems(draft.depart, draft.arrive, ["earliest_departure", "latest_arrival"], now));
  const capacity = draft.capacity.trim();
  if (capacity === "") add({ field: "capacity", problem: "is required" });
  else if (!/^[0-9]+$/.test(capacity) || Number(capacity) < 1 || Number(capacity) > 4) {
    add({ field: "capacity", problem: "should be a whole number from 1 to 4" });
  }
  return problems;
}

/** The page's own findings for the fields checked so far, over the service's answer for
 * the fields they do not cover. */
function withChecks(problems: Problem[], checked: Set<string>, error: ApiError | null): ApiError | null {
  const mine = problems.filter((p) => checked.has(p.field));
  if (mine.length === 0) return error;
  return new ApiError(422, "", [...mine, ...(error?.problems ?? []).filter((p) => !mine.some((m) => m.field === p.field))]);
}

function rememberCode(orderId: number, code: string): void {
  const codes = JSON.parse(localStorage.getItem(CODES) ?? "{}") as Record<string, string>;
  codes[String(orderId)] = code;
  localStorage.setItem(CODES, JSON.stringify(codes));
}

function knownCode(orderId: number): string | undefined {
  return (JSON.parse(localStorage.getItem(CODES) ?? "{}") as Record<string, string>)[String(orderId)];
}

export function CourierApp({ me, onChanged }: { me: UserPublic; onChanged: () => void }) {
  const [tab, setTab] = useState<Tab>("offers");
  const [offers, setOffers] = useState<OfferPublic[]>([]);
  const [trips, setTrips] = useState<TripPublic[]>([]);
  const [tripCount, setTripCount] = useState(PAGE); // how many of the trips are asked for
  const [moreTrips, setMoreTrips] = useState(false);
  const [carrying, setCarrying] = useState<OrderPublic[]>([]);
  const [rules, setRules] = useState<Rules | null>(null);
  const [notice, setNotice] = useState<string>("");
  const [queued, setQueued] = useState(pending().length);
  const [poolVersion, setPoolVersion] = useState(0);
  const [version, setVersion] = useState(0); // each reload: the trips' routes are asked again

  const reload = async (count = tripCount) => {
    const [o, t, c] = await Promise.all([
      api.get<OfferPublic[]>("/offers?status=pending"),
      loadTrips(count),
      api.get<OrderPublic[]>("/orders?limit=200"),
    ]);
    setOffers(o);
    setTrips(tripsInOrder(t.trips, serviceNow()));
    setMoreTrips(t.more);
    setVersion((v) => v + 1);
    setCarrying(c.filter((x) => x.status === "accepted" || x.status === "picked_up" || x.status === "delivered"));
  };

  useEffect(() => {
    void loadRules().then(setRules);
    void reload();
    const online = async () => {
      const sent = await flush((action, error) => setNotice(`${action.label} was refused: ${error.message}`));
      if (sent) setNotice(`Back online: sent ${sent} saved action${sent > 1 ? "s" : ""}.`);
      void reload();
    };
    const count = (e: Event) => setQueued((e as CustomEvent<number>).detail);
    window.addEventListener("online", online);
    window.addEventListener("crowdship:pending", count);
    void online();
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("crowdship:pending", count);
    };
  }, []);

  useLive("/events/stream", (event) => {
    if (event.kind === "pool") setPoolVersion((v) => v + 1);
    else void reload();
  });

  if (!me.assessment_passed_at) {
    return (
      <main class="page phone" id="main">
        <Assessment onPassed={onChanged} />
      </main>
    );
  }

  return (
    <main class="page phone" id="main">
      <h1>Courier</h1>
      {queued > 0 && (
        <p class="banner" role="status">
          Offline: {queued} action{queued > 1 ? "s" : ""} saved on this phone, sent when the connection returns.
        </p>
      )}
      {notice && (
        <p class="banner" role="status" data-testid="notice">
          {notice}{" "}
          <button type="button" class="link" onClick={() => setNotice("")}>Dismiss</button>
        </p>
      )}
      <Tabs
        label="Courier sections"
        current={tab}
        onChange={setTab}
        tabs={[
          ["offers", `Offers (${offers.length})`],
          ["trips", "My trips"],
          ["open", "Open orders"],
          ["carrying", "On board"],
          ["wallet", "Wallet"],
        ]}
      />
      {tab === "offers" && <Offers offers={offers} reload={reload} setNotice={setNotice} />}
      {tab === "trips" && (
        <Trips trips={trips} version={version} reload={reload} more={moreTrips}
          showMore={() => { setTripCount(tripCount + PAGE); void reload(tripCount + PAGE); }} />
      )}
      {tab === "open" && <OpenOrders trips={trips} poolVersion={poolVersion} reload={reload} setNotice={setNotice} />}
      {tab === "carrying" && <OnBoard orders={carrying} trips={trips} rules={rules} reload={reload} setNotice={setNotice} />}
      {tab === "wallet" && <Wallet me={me} onChanged={onChanged} />}
    </main>
  );
}

interface Reloading {
  reload: () => Promise<void>;
  setNotice: (text: string) => void;
}

function Offers({ offers, reload, setNotice }: { offers: OfferPublic[] } & Reloading) {
  const [error, setError] = useState<ApiError | null>(null);
  const answer = async (offer: OfferPublic, how: "accept" | "reject") => {
    setError(null);
    try {
      const result = await act<Assignment | OfferPublic>(`/offers/${offer.id}/${how}`, `${how} offer ${offer.id}`);
      if (result === null) setNotice(`No connection: "${how}" is saved and will be sent.`);
      else if (how === "accept" && "pickup_code" in result) {
        rememberCode(result.order.id, result.pickup_code);
        setNotice(`Accepted order ${result.order.id}. Show pickup code ${result.pickup_code} to the sender.`);
      }
    } catch (err) {
      setError(asApiError(err, offer.status));
    }
    await reload();
  };
  return (
    <section aria-label="Offers">
      <FormError error={error} />
      {offers.length === 0 && <Empty>No offers right now. Register a trip; offers come with each matching batch.</Empty>}
      {offers.map((offer) => (
        <Card
          key={offer.id}
          title={`Order ${offer.order_id}: ${money(offer.order.courier_cents, offer.order.currency)} for you`}
          actions={<Countdown until={offer.expires_at} label="expires in" onDone={() => void reload()} />}
        >
          <p>
            <strong>From</strong> {offer.order.pickup_address} <br />
            <strong>To</strong> {offer.order.delivery_address}
          </p>
          <p class="muted">
            Pick up ~{clock(offer.planned_pickup)}, deliver ~{clock(offer.planned_delivery)} · detour{" "}
            {offer.detour_min.toFixed(1)} min · {offer.order.size} · {offer.order.payment_method.replace(/_/g, " ")}
          </p>
          <div class="row">
            <button type="button" class="primary" onClick={() => answer(offer, "accept")}>Accept</button>
            <button type="button" onClick={() => answer(offer, "reject")}>Reject</button>
          </div>
        </Card>
      ))}
    </section>
  );
}

function Trips({ trips, version, reload, more, showMore }: { trips: TripPublic[]; version: number; reload: () => Promise<void>; more: boolean; showMore: () => void }) {
  const soon = new Date(serviceNow() + 20 * 60_000);
  const originInput = usePoint();
  const destinationInput = usePoint();
  const origin = originInput.point;
  const destination = destinationInput.point;
  const [picking, setPicking] = useState<"origin" | "destination">("origin");
  const [depart, setDepart] = useState(localInput(soon));
  const [arrive, setArrive] = useState(localInput(new Date(soon.getTime() + 60 * 60_000)));
  const [capacity, setCapacity] = useState("1");
  const [vehicle, setVehicle] = useState("bike");
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState("");
  // The fields whose own check is shown: once left (blur), and all of them once a post is tried.
  const { checked, leave, checkAll, reset } = useChecked();
  const now = serviceNow();
  const problems = checkTrip({ originText: originInput.text, destinationText: destinationInput.text, depart, arrive, capacity }, now);
  const shown = withChecks(problems, checked, error);

  const pick = (at: LatLon) => {
    if (picking === "origin") {
      originInput.set(at);
      setPicking("destination");
    } else {
      destinationInput.set(at);
      setPicking("origin");
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved("");
    if (problems.length > 0) {
      // Refused here, next to the fields, before anything is posted.
      checkAll(problems.map((p) => p.field));
      document.getElementById(`f-${problems[0]?.field}`)?.focus();
      return;
    }
    setError(null);
    const body: Partial<TripCreate> = {
      origin_lat: origin?.[0],
      origin_lon: origin?.[1],
      destination_lat: destination?.[0],
      destination_lon: destination?.[1],
      earliest_departure: isoFromLocal(depart),
      latest_arrival: isoFromLocal(arrive),
      capacity: Number(capacity),
      vehicle: vehicle as TripCreate["vehicle"],
    };
    try {
      const trip = await api.post<TripPublic>("/trips", body);
      setSaved(`Trip ${trip.id} registered.`);
      originInput.set(null);
      destinationInput.set(null);
      reset();
      await reload();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  const cancel = async (trip: TripPublic) => {
    try {
      await api.post(`/trips/${trip.id}/cancel`);
    } catch (err) {
      setError(asApiError(err, trip.status));
    }
    await reload();
  };
  const markers: MapMarker[] = [
    ...(origin ? [{ id: "o", at: origin, label: "start", color: "#1f4e9c" }] : []),
    ...(destination ? [{ id: "d", at: destination, label: "end", color: "#1e7b3a" }] : []),
  ];
  const coming = trips.filter((t) => isComing(t, now));
  const done = trips.filter((t) => !isComing(t, now));
  const lines: MapLine[] = coming.map((t) => ({
    id: `trip-${t.id}`,
    from: [t.origin_lat, t.origin_lon],
    to: [t.destination_lat, t.destination_lon],
    color: STATUS_COLOURS[t.status] ?? "#333",
    title: `trip ${t.id} (${t.status})`,
  }));
  // The view: the city and the coming trips, whole (not the taps: the map stays put while
  // the courier picks).
  const fit = useMemo(() => coming.flatMap((t): LatLon[] => [[t.origin_lat, t.origin_lon], [t.destination_lat, t.destination_lon]]),
    [coming.map((t) => `${t.id}:${t.origin_lat},${t.origin_lon},${t.destination_lat},${t.destination_lon}`).join(";")]);
  const fields = ["origin_lat", "origin_lon", "destination_lat", "destination_lon", "earliest_departure", "latest_arrival", "capacity", "vehicle"];
  return (
    <section aria-label="My trips">
      <Card title="Register a trip">
        <p class="muted">
          Tap the map for the trip's <strong>{picking === "origin" ? "start" : "end"}</strong>, or type coordinates.
        </p>
        <MapView label="Pick the trip's start and end" lines={lines} markers={markers} onPick={pick} fit={fit} fitCity height="260px" />
        <form onSubmit={submit} class="grid2" aria-label="New trip" noValidate>
          <FormError error={shown} fields={fields} />
          {(["origin", "destination"] as const).map((which) =>
            ([0, 1] as const).map((index) => {
              const name = `${which}_${index === 0 ? "lat" : "lon"}`;
              const input = which === "origin" ? originInput : destinationInput;
              return (
                <Field key={name} label={`${which === "origin" ? "Start" : "End"} ${index === 0 ? "latitude" : "longitude"}`} name={name} error={shown}>
                  {(id, describedBy, invalid) => (
                    <input id={id} inputMode="decimal" value={input.text[index]} onBlur={leave(name)}
                      aria-describedby={describedBy} aria-invalid={invalid}
                      onInput={(e) => input.type(index, e.currentTarget.value)} />
                  )}
                </Field>
              );
            }),
          )}
          <div class="grid-wide">
            <Field label="Leave at" name="earliest_departure" error={shown}>
              {(id, d, invalid) => <input id={id} type="datetime-local" value={depart} aria-describedby={d} aria-invalid={invalid} onBlur={leave("earliest_departure")} onInput={(e) => setDepart(e.currentTarget.value)} />}
            </Field>
            <Field label="Arrive by" name="latest_arrival" error={shown}>
              {(id, d, invalid) => <input id={id} type="datetime-local" value={arrive} aria-describedby={d} aria-invalid={invalid} onBlur={leave("latest_arrival")} onInput={(e) => setArrive(e.currentTarget.value)} />}
            </Field>
          </div>
          <Field label="Parcels you can carry" name="capacity" error={shown} hint="1 to 4 at once; each order is one parcel.">
            {(id, d, invalid) => <input id={id} type="number" min={1} max={4} step={1} value={capacity} aria-describedby={d} aria-invalid={invalid} onBlur={leave("capacity")} onInput={(e) => setCapacity(e.currentTarget.value)} />}
          </Field>
          <Field label="Vehicle" name="vehicle" error={shown}>
            {(id, d) => (
              <select id={id} value={vehicle} aria-describedby={d} onChange={(e) => setVehicle(e.currentTarget.value)}>
                {["foot", "bike", "scooter", "car", "van", "public_transport"].map((v) => <option key={v} value={v}>{v.replace("_", " ")}</option>)}
              </select>
            )}
          </Field>
          <button type="submit" class="primary">Register trip</button>
          {saved && <p role="status">{saved}</p>}
        </form>
      </Card>
      {trips.length === 0 && <Empty>No trips yet.</Empty>}
      {coming.length > 0 && <h2>Coming trips, the next to leave first</h2>}
      {coming.map((t) => <TripCard key={t.id} trip={t} version={version} onCancel={() => cancel(t)} reload={reload} />)}
      {done.length > 0 && <h2>Done, cancelled and past</h2>}
      {done.map((t) => <TripCard key={t.id} trip={t} version={version} onCancel={() => cancel(t)} reload={reload} />)}
      {more && <button type="button" onClick={showMore}>Show older trips</button>}
    </section>
  );
}

function OpenOrders({ trips, poolVersion, reload, setNotice }: { trips: TripPublic[]; poolVersion: number } & Reloading) {
  // Open trips, and trips that carry orders with room for more (the route decides); a trip
  // takes orders until it leaves, so the ones that have left are not offered here.
  const now = serviceNow();
  const open = trips.filter((t) => (t.status === "open" || (t.status === "assigned" && t.capacity > 1))
    && new Date(t.earliest_departure).getTime() > now);
  const [tripId, setTripId] = useState<number | null>(open[0]?.id ?? null);
  const [fitting, setFitting] = useState<FittingOrder[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const chosen = tripId ?? open[0]?.id ?? null;
  const load = async () => {
    if (chosen === null) return setFitting([]);
    try {
      setFitting(await api.get<FittingOrder[]>(`/trips/${chosen}/fitting-orders`));
    } catch (err) {
      setError(asApiError(err));
    }
  };
  useEffect(() => void load(), [chosen, poolVersion]);
  const grab = async (orderId: number, shown: string) => {
    setError(null);
    try {
      const result = await act<Assignment>(`/orders/${orderId}/grab`, `grab order ${orderId}`, { trip_id: chosen });
      if (result === null) setNotice("No connection: the grab is saved and will be sent.");
      else {
        rememberCode(result.order.id, result.pickup_code);
        setNotice(`Order ${orderId} is yours. Show pickup code ${result.pickup_code} to the sender.`);
      }
    } catch (err) {
      setError(asApiError(err, shown));
    }
    await Promise.all([load(), reload()]);
  };
  if (open.length === 0) return <Empty>Register a trip that has not left yet to see the orders it could carry.</Empty>;
  return (
    <section aria-label="Open orders">
      <Field label="For trip" name="trip" error={null}>
        {(id) => (
          <select id={id} value={String(chosen)} onChange={(e) => setTripId(Number(e.currentTarget.value))}>
            {open.map((t) => <option key={t.id} value={t.id}>Trip {t.id}, leaving {time(t.earliest_departure)}</option>)}
          </select>
        )}
      </Field>
      <FormError error={error} />
      {fitting.length === 0 && <Empty>No open order fits this trip right now.</Empty>}
      {fitting.map((f) => (
        <Card key={f.order.id} title={`Order ${f.order.id}: ${money(f.order.courier_cents, f.order.currency)}`}
          actions={<button type="button" class="primary" onClick={() => grab(f.order.id, f.order.status)}>Grab</button>}>
          <p>{f.order.pickup_address} → {f.order.delivery_address}</p>
          <p class="muted">Detour {f.detour_min.toFixed(1)} min · pick up ~{clock(f.planned_pickup)} · deliver ~{clock(f.planned_delivery)}</p>
        </Card>
      ))}
    </section>
  );
}

function OnBoard({ orders, trips, rules, reload, setNotice }: { orders: OrderPublic[]; trips: TripPublic[]; rules: Rules | null } & Reloading) {
  const active = orders.filter((o) => o.status !== "delivered");
  const done = orders.filter((o) => o.status === "delivered").slice(0, 5);
  return (
    <section aria-label="On board">
      {active.length === 0 && <Empty>Nothing on board. Accept an offer or grab an open order.</Empty>}
      {active.map((o) => <Carried key={o.id} order={o} trip={trips.find((t) => t.id === o.trip_id)} rules={rules} reload={reload} setNotice={setNotice} />)}
      {done.length > 0 && <h2>Delivered lately</h2>}
      {done.map((o) => (
        <p key={o.id}>Order {o.id} <Status status={o.status} /> {time(o.delivered_at)} · {money(o.courier_cents, o.currency)}</p>
      ))}
    </section>
  );
}

function Carried({ order, trip, rules, reload, setNotice }: { order: OrderPublic; trip: TripPublic | undefined; rules: Rules | null } & Reloading) {
  const [code, setCode] = useState("");
  const [cash, setCash] = useState(order.payment_method === "cash_on_delivery" ? String(order.fee_cents / 100) : "");
  const [error, setError] = useState<ApiError | null>(null);
  const [pickupCode, setPickupCode] = useState(knownCode(order.id));
  const [photo, setPhoto] = useState("");
  const [photoNote, setPhotoNote] = useState("");
  const withdrawUntil = useMemo(() => {
    if (!rules || !order.accepted_at) return null;
    return new Date(new Date(order.accepted_at).getTime() + rules.withdraw_window_min * 60_000).toISOString();
  }, [rules, order.accepted_at]);
  const canWithdraw = order.status === "accepted" && withdrawUntil !== null && new Date(withdrawUntil).getTime() > serviceNow();

  const withdraw = async () => {
    setError(null);
    try {
      const result = await act(`/orders/${order.id}/withdraw`, `withdraw order ${order.id}`);
      setNotice(result === null ? "No connection: the withdrawal is saved." : `Order ${order.id} is back in the pool.`);
    } catch (err) {
      setError(asApiError(err, order.status));
    }
    await reload();
  };
  const freshCode = async () => {
    try {
      const result = await api.post<Assignment>(`/orders/${order.id}/pickup-code`);
      rememberCode(order.id, result.pickup_code);
      setPickupCode(result.pickup_code);
    } catch (err) {
      setError(asApiError(err));
    }
  };
  const deliver = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const body: Record<string, unknown> = { code };
    if (order.payment_method === "cash_on_delivery") body.cash_collected_cents = Math.round(Number(cash) * 100);
    if (photo) body.photo = photo;
    try {
      const result = await act(`/orders/${order.id}/deliver`, `deliver order ${order.id}`, body);
      setNotice(result === null ? "No connection: the delivery is saved and will be sent." : `Order ${order.id} delivered. Thank you!`);
      await reload();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  const choosePhoto = async (file: File | undefined) => {
    setPhoto("");
    setPhotoNote("");
    if (!file) return;
    try {
      const shrunk = await shrinkPhoto(file);
      setPhoto(shrunk);
      setPhotoNote(`Photo ready (${Math.round((shrunk.length * 3) / 4 / 1024)} kB).`);
    } catch (err) {
      setPhotoNote(`That file cannot be used as a photo: ${String(err)}`);
    }
  };
  // The trip's route with its stops: start, pick up, deliver, end.
  const start: LatLon | null = trip ? [trip.origin_lat, trip.origin_lon] : null;
  const end: LatLon | null = trip ? [trip.destination_lat, trip.destination_lon] : null;
  const stops: MapMarker[] = [
    ...(start ? [{ id: "s", at: start, label: "start", color: "#3a7d8c" }] : []),
    { id: "p", at: [order.pickup_lat, order.pickup_lon], label: "1 pick up", color: "#b35c00" },
    { id: "d", at: [order.delivery_lat, order.delivery_lon], label: "2 deliver", color: "#1e7b3a" },
    ...(end ? [{ id: "e", at: end, label: "end", color: "#3a7d8c" }] : []),
  ];
  const legs: MapLine[] = stops.slice(1).map((stop, i) => ({
    id: `leg-${i}`,
    from: (stops[i] as MapMarker).at,
    to: stop.at,
    color: "#1f4e9c",
    title: `leg ${i + 1}`,
  }));
  return (
    <Card title={<>Order {order.id} <Status status={order.status} /></>}
      actions={canWithdraw && withdrawUntil ? (
        <button type="button" onClick={withdraw}>
          Withdraw (<Countdown until={withdrawUntil} label="left" onDone={() => void reload()} />)
        </button>
      ) : null}>
      <ol class="stops">
        <li><strong>Pick up</strong> at {order.pickup_address}, from {time(order.earliest_pickup)}</li>
        <li><strong>Deliver</strong> to {order.receiver_name}, {order.delivery_address}, by {time(order.latest_delivery)}</li>
      </ol>
      <MapView label={`Route of order ${order.id}`} markers={stops} fit={stops.map((s) => s.at)} height="220px" lines={legs} />
      <FormError error={error} fields={["code", "cash_collected_cents"]} />
      <details>
        <summary>Messages and calls</summary>
        <Thread orderId={order.id} version={0} callTo={["sender", "receiver"]} />
      </details>
      {order.status === "accepted" && (
        <div class="code-box">
          {pickupCode ? (
            <p>Show this pickup code to the sender: <strong class="code" data-testid="pickup-code">{pickupCode}</strong></p>
          ) : (
            <p class="muted">This phone does not have the pickup code.</p>
          )}
          <button type="button" onClick={freshCode}>New pickup code</button>
        </div>
      )}
      {order.status === "picked_up" && (
        <form onSubmit={deliver} class="stack" aria-label={`Deliver order ${order.id}`}>
          <Field label="Receiver's code" name="code" error={error} hint="The receiver got it by SMS.">
            {(id, d, invalid) => <input id={id} inputMode="numeric" autocomplete="one-time-code" value={code} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setCode(e.currentTarget.value)} />}
          </Field>
          {order.payment_method === "cash_on_delivery" && (
            <Field label={`Cash collected (${order.currency})`} name="cash_collected_cents" error={error}>
              {(id, d, invalid) => <input id={id} inputMode="decimal" value={cash} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setCash(e.currentTarget.value)} />}
            </Field>
          )}
          <Field label="Photo of the delivered parcel (optional)" name="photo" error={error} hint="Kept as proof of delivery; shown to the sender and the receiver.">
            {(id, d) => <input id={id} type="file" accept="image/*" capture="environment" aria-describedby={d} onChange={(e) => void choosePhoto(e.currentTarget.files?.[0])} />}
          </Field>
          {photoNote && <p class="muted" role="status">{photoNote}</p>}
          {photo && <img class="proof" src={photo} alt="The photo to send with the delivery" />}
          <button type="submit" class="primary">Deliver</button>
        </form>
      )}
    </Card>
  );
}

function Wallet({ me, onChanged }: { me: UserPublic; onChanged: () => void }) {
  const [wallet, setWallet] = useState<WalletPublic | null>(null);
  const [iban, setIban] = useState(me.payout_account ?? "");
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState("");
  useEffect(() => void api.get<WalletPublic>("/wallet").then(setWallet).catch((e) => setError(asApiError(e))), []);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api.put("/me/payout-account", { iban });
      setSaved("Payout account saved.");
      onChanged();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <section aria-label="Wallet">
      {wallet && (
        <dl class="figures">
          <div><dt>Pending</dt><dd>{money(wallet.pending_cents, wallet.currency)}</dd></div>
          <div><dt>Held (disputes)</dt><dd>{money(wallet.held_cents, wallet.currency)}</dd></div>
          <div><dt>Due{wallet.next_due_on ? ` on ${wallet.next_due_on}` : ""}</dt><dd>{money(wallet.due_cents, wallet.currency)}</dd></div>
          <div><dt>Paid</dt><dd>{money(wallet.paid_cents, wallet.currency)}</dd></div>
          <div><dt>Cash collected</dt><dd>{money(wallet.cash_collected_cents, wallet.currency)}</dd></div>
          <div><dt>Cash you owe</dt><dd>{money(wallet.cash_owed_cents, wallet.currency)}</dd></div>
        </dl>
      )}
      <form onSubmit={save} class="stack" aria-label="Payout account">
        <FormError error={error} fields={["iban"]} />
        <Field label="Payout account (IBAN)" name="iban" error={error}>
          {(id, d, invalid) => <input id={id} value={iban} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setIban(e.currentTarget.value)} />}
        </Field>
        <button type="submit">Save account</button>
        {saved && <p role="status">{saved}</p>}
      </form>
    </section>
  );
}

function Assessment({ onPassed }: { onPassed: () => void }) {
  const [paper, setPaper] = useState<AssessmentPublic | null>(null);
  const [result, setResult] = useState<AttemptPublic | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = () => api.get<AssessmentPublic>("/assessment").then(setPaper).catch((e) => setError(asApiError(e)));
  useEffect(() => void load(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    // What the form shows is what is sent: the radios are the browser's own (uncontrolled),
    // and the checked choices are read from the form itself at submit.
    const chosen: Record<string, number> = {};
    new FormData(e.currentTarget as HTMLFormElement).forEach((value, key) => {
      chosen[key] = Number(value);
    });
    try {
      const attempt = await api.post<AttemptPublic>("/assessment", { answers: chosen });
      setResult(attempt);
      if (attempt.passed) onPassed();
      else void load();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  if (!paper) return <p class="loading">Loading the assessment…</p>;
  return (
    <section aria-label="Onboarding assessment">
      <h1>Before your first parcel</h1>
      {paper.tutorial.map((part) => (
        <details key={part.title} open>
          <summary>{part.title}</summary>
          <p>{part.text}</p>
        </details>
      ))}
      {result && !result.passed && (
        <p class="form-error" role="alert">
          {result.score} of {result.out_of} right; {paper.pass_mark} needed.
          {paper.next_attempt_at ? ` Try again after ${time(paper.next_attempt_at)}.` : ""}
        </p>
      )}
      <form onSubmit={submit} class="stack" aria-label="Assessment">
        <FormError error={error} />
        {paper.questions.map((q) => (
          <fieldset key={q.id}>
            <legend>{q.text}</legend>
            {q.options.map((option, index) => (
              <label key={option} class="choice">
                <input type="radio" name={q.id} value={index} />
                {option}
              </label>
            ))}
          </fieldset>
        ))}
        <button type="submit" class="primary">Submit answers</button>
      </form>
    </section>
  );
}

/** One stop of a trip's route, in words: what happens where, and when. */
function StopText({ stop }: { stop: RouteStop }) {
  const place = stop.address || `${stop.lat.toFixed(4)}, ${stop.lon.toFixed(4)}`;
  const waits = stop.leave_at !== stop.arrive_at && stop.kind === "pickup" ? `, wait until ${clock(stop.leave_at)}` : "";
  const late = stop.on_time ? "" : " (late)";
  if (stop.kind === "start") return <><strong>Start</strong> at {place}, leave ~{clock(stop.leave_at)}</>;
  if (stop.kind === "pickup") return <><strong>Pick up order {stop.order_id}</strong> at {place}, ~{clock(stop.arrive_at)}{waits}</>;
  if (stop.kind === "delivery") return <><strong>Deliver order {stop.order_id}</strong> to {place}, ~{clock(stop.arrive_at)}, by {clock(stop.latest)}{late}</>;
  return <><strong>End</strong> at {place}, ~{clock(stop.arrive_at)}, by {clock(stop.latest)}{late}</>;
}

/** The trip's route from GET /trips/{id}/route: its stops in driving order, planned again
 * from what it carries whenever the page reloads. */
function TripStops({ trip, version }: { trip: TripPublic; version: number }) {
  const [route, setRoute] = useState<TripRoute | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const live = trip.status === "open" || trip.status === "assigned";
  useEffect(() => {
    if (!live) return;
    api.get<TripRoute>(`/trips/${trip.id}/route`).then(setRoute, (err) => setError(asApiError(err)));
  }, [trip.id, trip.status, version]);
  if (!live) return null;
  if (error) return <FormError error={error} />;
  if (!route || route.order_ids.length === 0) return null;
  return (
    <>
      <p class="muted">
        Carrying {route.load} of {route.capacity} parcel{route.capacity > 1 ? "s" : ""}
        {route.feasible ? "" : " · running late: the stops marked late miss their time"}
      </p>
      <ol class="stops" aria-label={`Route of trip ${trip.id}`} data-testid={`route-${trip.id}`}>
        {route.stops.map((stop, i) => (
          <li key={`${stop.kind}-${stop.order_id ?? i}`}><StopText stop={stop} /></li>
        ))}
      </ol>
    </>
  );
}

function TripCard({ trip, version, onCancel, reload }: { trip: TripPublic; version: number; onCancel: () => void; reload: () => Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const [depart, setDepart] = useState(localInput(new Date(trip.earliest_departure)));
  const [arrive, setArrive] = useState(localInput(new Date(trip.latest_arrival)));
  const [error, setError] = useState<ApiError | null>(null);
  const { checked, leave, checkAll } = useChecked();
  const problems = windowProblems(depart, arrive, ["earliest_departure", "latest_arrival"], serviceNow());
  const shown = withChecks(problems, checked, error);
  const save = async (e: Event) => {
    e.preventDefault();
    if (problems.length > 0) {
      checkAll(problems.map((p) => p.field));
      document.getElementById(`f-${problems[0]?.field}-${trip.id}`)?.focus();
      return;
    }
    setError(null);
    try {
      await api.patch(`/trips/${trip.id}`, { earliest_departure: isoFromLocal(depart), latest_arrival: isoFromLocal(arrive) });
      setEditing(false);
      await reload();
    } catch (err) {
      const refused = asApiError(err, trip.status);
      setError(refused);
      if (refused.status === 409) await reload();
    }
  };
  return (
    <Card title={<>Trip {trip.id}, leaves {time(trip.earliest_departure)} <Status status={trip.status} /></>}
      actions={trip.status === "open" ? (
        <div class="row">
          <button type="button" aria-expanded={editing} onClick={() => setEditing(!editing)}>Change</button>
          <button type="button" onClick={onCancel}>Cancel trip</button>
        </div>
      ) : null}>
      <p>
        {trip.origin_address || `${trip.origin_lat.toFixed(4)}, ${trip.origin_lon.toFixed(4)}`} → {trip.destination_address || `${trip.destination_lat.toFixed(4)}, ${trip.destination_lon.toFixed(4)}`}
      </p>
      <p class="muted">
        {trip.capacity} parcel{trip.capacity > 1 ? "s" : ""}{trip.vehicle ? ` · ${trip.vehicle}` : ""} · arrive by {time(trip.latest_arrival)}
      </p>
      <TripStops trip={trip} version={version} />
      {editing && (
        <form class="grid2" onSubmit={save} aria-label={`Change trip ${trip.id}`} noValidate>
          <FormError error={shown} fields={["earliest_departure", "latest_arrival"]} />
          <div class="grid-wide">
            <Field label={`Leave at (trip ${trip.id})`} name="earliest_departure" idSuffix={`-${trip.id}`} error={shown}>
              {(id, d, invalid) => <input id={id} type="datetime-local" value={depart} aria-describedby={d} aria-invalid={invalid} onBlur={leave("earliest_departure")} onInput={(e) => setDepart(e.currentTarget.value)} />}
            </Field>
            <Field label={`Arrive by (trip ${trip.id})`} name="latest_arrival" idSuffix={`-${trip.id}`} error={shown}>
              {(id, d, invalid) => <input id={id} type="datetime-local" value={arrive} aria-describedby={d} aria-invalid={invalid} onBlur={leave("latest_arrival")} onInput={(e) => setArrive(e.currentTarget.value)} />}
            </Field>
          </div>
          <button type="submit" class="primary">Save trip</button>
        </form>
      )}
    </Card>
  );
}
