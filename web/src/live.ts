// The service's live feed (Server-Sent Events). Pages re-read what changed when an event
// arrives; nothing polls. EventSource reconnects by itself and sends Last-Event-ID, and
// the service replays what was missed.
import { useEffect, useRef } from "preact/hooks";

export interface LiveEvent {
  kind: "order" | "pool";
  id: number;
  order_id: number;
  action?: string;
  from_status?: string | null;
  to_status?: string;
  status?: string;
  at?: string;
}

export type LiveHandler = (event: LiveEvent) => void;

export function useLive(url: string | null, onEvent: LiveHandler): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    if (!url || typeof EventSource === "undefined") return;
    const source = new EventSource(url, { withCredentials: true });
    const receive = (message: MessageEvent<string>) => {
      try {
        handler.current(JSON.parse(message.data) as LiveEvent);
      } catch (error) {
        console.warn("live feed: unreadable message", error);
      }
    };
    source.addEventListener("order", receive);
    source.addEventListener("pool", receive);
    return () => source.close();
  }, [url]);
}

/** Call `action` at most once per `ms`, the last call winning (many events, one reload). */
export function debounce(action: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(action, ms);
  };
}
