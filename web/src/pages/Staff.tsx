// Pickup-point staff: parcels arriving today, confirm an arrival, hand a parcel to its
// receiver (their code), and hand a waiting parcel to its courier (the courier's code).
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, api } from "../api/client";
import type { OrderPublic, UserPublic } from "../api/types";
import { debounce, useLive } from "../live";
import { Card, Empty, Field, FormError, Status, asApiError, time } from "../ui";

export function StaffPage({ me }: { me: UserPublic }) {
  const [orders, setOrders] = useState<OrderPublic[]>([]);
  const [notice, setNotice] = useState("");
  const reload = async () => setOrders(await api.get<OrderPublic[]>("/orders?limit=500"));
  useEffect(() => void reload(), []);
  const soon = useMemo(() => debounce(() => void reload(), 300), []);
  useLive("/events/stream", soon);
  const incoming = orders.filter((o) => o.pickup_point_id === me.point_id && ["accepted", "picked_up", "offered", "posted"].includes(o.status));
  const waiting = orders.filter((o) => o.pickup_point_id === me.point_id && o.status === "delivered" && !o.collected_at);
  const outgoing = orders.filter((o) => o.from_point_id === me.point_id && ["posted", "offered", "accepted"].includes(o.status));
  return (
    <main class="page" id="main">
      <h1>Pickup point desk</h1>
      {notice && <p class="banner" role="status" data-testid="notice">{notice}</p>}
      <h2>Arriving</h2>
      {incoming.length === 0 && <Empty>No parcels on their way here.</Empty>}
      {incoming.map((o) => <Desk key={o.id} order={o} mode="arrive" reload={reload} onDone={setNotice} />)}
      <h2>Waiting for their receiver</h2>
      {waiting.length === 0 && <Empty>No parcels waiting for collection.</Empty>}
      {waiting.map((o) => <Desk key={o.id} order={o} mode="collect" reload={reload} onDone={setNotice} />)}
      <h2>Leaving with a courier</h2>
      {outgoing.length === 0 && <Empty>No parcels waiting for a courier.</Empty>}
      {outgoing.map((o) => <Desk key={o.id} order={o} mode="handout" reload={reload} onDone={setNotice} />)}
    </main>
  );
}

function Desk({ order, mode, reload, onDone }: { order: OrderPublic; mode: "arrive" | "collect" | "handout"; reload: () => Promise<void>; onDone: (message: string) => void }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (path: string, body: unknown, message: string) => {
    setError(null);
    try {
      await api.post(path, body);
      onDone(`Order ${order.id}: ${message}`);
      await reload();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <Card title={<>Order {order.id} <Status status={order.status} /></>}>
      <p>For {order.receiver_name} · {order.size} · by {time(order.latest_delivery)}</p>
      <FormError error={error} fields={["code"]} />
      {mode === "arrive" && order.status === "picked_up" && (
        <button type="button" class="primary" onClick={() => void run(`/orders/${order.id}/arrive`, undefined, "Arrival confirmed; the receiver is told to collect it.")}>
          Confirm arrival
        </button>
      )}
      {mode !== "arrive" && (mode === "collect" || order.status === "accepted") && (
        <form class="row" aria-label={`Hand over order ${order.id}`} onSubmit={(e) => {
          e.preventDefault();
          void (mode === "collect"
            ? run(`/orders/${order.id}/collect`, { code }, "Handed to the receiver.")
            : run(`/orders/${order.id}/pickup`, { code }, "Handed to the courier."));
        }}>
          <Field label={mode === "collect" ? "Receiver's code" : "Courier's pickup code"} name="code" error={error}>
            {(id, d, invalid) => <input id={id} inputMode="numeric" value={code} aria-describedby={d} aria-invalid={invalid} onInput={(e) => setCode(e.currentTarget.value)} />}
          </Field>
          <button type="submit" class="primary">Hand over</button>
        </form>
      )}
    </Card>
  );
}
