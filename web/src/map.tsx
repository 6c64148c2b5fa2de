// The city map (Leaflet, drawn on one canvas). Offline by default: the bundled streets as
// vector lines and a kilometre grid; with CROWDSHIP_TILE_URL set, raster tiles instead.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { useEffect, useRef, useState } from "preact/hooks";

export type LatLon = [number, number];

export interface MapLine {
  id: string;
  from: LatLon;
  to: LatLon;
  color: string;
  dashed?: boolean;
  weight?: number;
  title: string | (() => string); // a function: worked out only when shown
}

export interface MapMarker {
  id: string;
  at: LatLon;
  label: string;
  color?: string;
}

interface Basemap {
  bbox: [number, number, number, number] | null;
  major: number[][];
  minor: number[][];
}

const HELSINKI: LatLon = [60.177, 24.94];

/** Leaflet 1.9.4's canvas renderer, but a redraw asked of it once its map has removed it
 * (its context gone) draws nothing: the plain one failed on "save" of undefined, now and
 * then, in a browser test whose page left the map while a redraw was due. */
const SafeCanvas = L.Canvas.extend({
  _redraw(this: { _ctx?: CanvasRenderingContext2D; _redrawRequest: unknown; _redrawBounds: unknown }) {
    if (!this._ctx) {
      this._redrawRequest = null;
      this._redrawBounds = null;
      return;
    }
    (L.Canvas.prototype as unknown as { _redraw: () => void })._redraw.call(this);
  },
}) as unknown as new (options?: L.RendererOptions) => L.Canvas;
let basemapPromise: Promise<Basemap | null> | null = null;

function loadBasemap(): Promise<Basemap | null> {
  basemapPromise ??= fetch("/map/base.json")
    .then((r) => (r.ok ? (r.json() as Promise<Basemap>) : null))
    .catch(() => null);
  return basemapPromise;
}

function tileUrl(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="crowdship-tile-url"]')?.content ?? "";
}

function pairs(flat: number[]): LatLon[] {
  const out: LatLon[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as number, flat[i + 1] as number]);
  return out;
}

/** Grid lines every ~1 km over the bounds: where the extract has no streets. */
function grid(bounds: L.LatLngBounds, renderer: L.Renderer): L.LayerGroup {
  const group = L.layerGroup();
  const stepLat = 0.009;
  const stepLon = 0.018;
  const south = Math.floor(bounds.getSouth() / stepLat) * stepLat;
  const west = Math.floor(bounds.getWest() / stepLon) * stepLon;
  const style = { color: "#d0d4da", weight: 1, interactive: false, renderer };
  for (let lat = south; lat <= bounds.getNorth() + stepLat; lat += stepLat) {
    L.polyline([[lat, bounds.getWest() - stepLon], [lat, bounds.getEast() + stepLon]], style).addTo(group);
  }
  for (let lon = west; lon <= bounds.getEast() + stepLon; lon += stepLon) {
    L.polyline([[bounds.getSouth() - stepLat, lon], [bounds.getNorth() + stepLat, lon]], style).addTo(group);
  }
  return group;
}

/** Groups of markers whose labels (centred above each point, about 7 px a character)
 * would overlap on screen: each group's indexes in the markers' order. */
export function overlapping(points: L.Point[], labels: string[]): number[][] {
  const width = (text: string) => text.length * 7 + 16;
  const groups: number[][] = [];
  const into = new Map<number, number[]>();
  points.forEach((p, i) => {
    const near = [...into.keys()].filter((j) => {
      const q = points[j] as L.Point;
      const reach = (width(labels[i] ?? "") + width(labels[j] ?? "")) / 2;
      return Math.abs(p.x - q.x) < reach && Math.abs(p.y - q.y) < 26;
    });
    const joined = near.map((j) => into.get(j) as number[]).filter((g, k, all) => all.indexOf(g) === k);
    const group = joined[0] ?? [];
    if (joined.length === 0) groups.push(group);
    for (const other of joined.slice(1)) {
      group.push(...other);
      groups.splice(groups.indexOf(other), 1);
      for (const k of other) into.set(k, group);
    }
    group.push(i);
    group.sort((a, b) => a - b);
    into.set(i, group);
  });
  return groups;
}

interface MapViewProps {
  lines?: MapLine[];
  markers?: MapMarker[];
  onPick?: (at: LatLon) => void;
  onSelect?: (id: string) => void;
  fit?: LatLon[];
  /** Fit the view to the city (the offline base map's extent) as well as to `fit`. */
  fitCity?: boolean;
  label: string;
  height?: string;
}

export function MapView({ lines = [], markers = [], onPick, onSelect, fit, fitCity = false, label, height = "420px" }: MapViewProps) {
  const element = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const overlay = useRef<L.LayerGroup | null>(null);
  const renderer = useRef<L.Canvas | null>(null);
  const handlers = useRef({ onPick, onSelect });
  handlers.current = { onPick, onSelect };

  useEffect(() => {
    if (!element.current) return;
    const canvas = new SafeCanvas({ padding: 0.5, tolerance: 4 });
    renderer.current = canvas;
    const m = L.map(element.current, {
      center: HELSINKI,
      zoom: 13,
      preferCanvas: true,
      renderer: canvas,
      zoomSnap: 0.5,
      attributionControl: true,
      keyboard: true,
    });
    map.current = m;
    // The view on show, south,west,north,east (what the browser tests read).
    const shows = () => {
      if (map.current !== m) return; // a moveend after the map was removed
      const b = m.getBounds();
      if (element.current) element.current.dataset.view = [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map((v) => v.toFixed(5)).join(",");
    };
    m.on("moveend", shows);
    shows();
    overlay.current = L.layerGroup().addTo(m);
    const tiles = tileUrl();
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: "map tiles" }).addTo(m);
    } else {
      m.attributionControl.addAttribution("streets © OpenStreetMap contributors (ODbL)");
      const base = L.layerGroup().addTo(m);
      base.addLayer(grid(L.latLngBounds([60.12, 24.82], [60.24, 25.06]), canvas));
      void loadBasemap().then((data) => {
        if (!data) return;
        const minor = { color: "#c3c8cf", weight: 1, interactive: false, renderer: canvas };
        const major = { color: "#9aa3ad", weight: 2, interactive: false, renderer: canvas };
        for (const line of data.minor) L.polyline(pairs(line), minor).addTo(base);
        for (const line of data.major) L.polyline(pairs(line), major).addTo(base);
      });
    }
    return () => {
      // Leaflet 1.9.4's remove() leaves a resize's debounced moveend timer running; it fires
      // on a map without panes ("_leaflet_pos" of undefined) when a page leaves the tab
      // within 200 ms of a resize. No handler may run then.
      map.current = null;
      m.off();
      clearTimeout((m as unknown as { _sizeTimer?: ReturnType<typeof setTimeout> })._sizeTimer);
      m.remove();
    };
  }, []);

  useEffect(() => {
    const group = overlay.current;
    const canvas = renderer.current;
    const m = map.current;
    if (!group || !canvas || !m) return;
    group.clearLayers();
    // One multi-line layer per style, not one layer per line: 15000 lines draw in one pass
    // of the canvas. Which line was meant is found from the click's position.
    const styles = new Map<string, MapLine[]>();
    for (const line of lines) {
      const key = `${line.color}|${line.dashed ? 1 : 0}|${line.weight ?? 3}`;
      const bucket = styles.get(key);
      if (bucket) bucket.push(line);
      else styles.set(key, [line]);
    }
    for (const bucket of styles.values()) {
      const first = bucket[0] as MapLine;
      group.addLayer(
        L.polyline(bucket.map((l) => [l.from, l.to]), {
          color: first.color,
          weight: first.weight ?? 3,
          opacity: 0.85,
          dashArray: first.dashed ? "6 6" : undefined,
          renderer: canvas,
          interactive: false,
        }),
      );
      if (lines.length <= 1000) {
        // The arrow's head, a dot where each line ends (left out at city scale).
        for (const line of bucket) {
          group.addLayer(L.circleMarker(line.to, { radius: 3, color: line.color, fillOpacity: 1, renderer: canvas, interactive: false }));
        }
      }
    }
    const dots = markers.map((marker) => {
      const drawn = L.circleMarker(marker.at, {
        radius: 8,
        color: marker.color ?? "#1f4e9c",
        fillOpacity: 0.8,
        renderer: canvas,
      });
      group.addLayer(drawn);
      return drawn;
    });
    // Labels that would overlap at this zoom (a trip that starts where its first pickup is)
    // become one label, in the markers' order: "start · 1 pick up". Again at every zoom.
    const label = () => {
      for (const dot of dots) dot.unbindTooltip();
      for (const members of overlapping(markers.map((mk) => m.latLngToLayerPoint(mk.at)), markers.map((mk) => mk.label))) {
        const text = members.map((i) => (markers[i] as MapMarker).label).join(" · ");
        (dots[members[0] as number] as L.CircleMarker).bindTooltip(text, { permanent: true, direction: "top" });
      }
    };
    label();
    m.on("zoomend", label);
    // User Timing: when these lines are on screen (bench_web reads it; so can monitoring).
    const drawn = lines.length;
    requestAnimationFrame(() => performance.mark("crowdship:map-drawn", { detail: { lines: drawn } }));
    const tooltip = L.tooltip({ sticky: true, direction: "top" });
    const nearest = (at: L.LatLng): MapLine | null => {
      const p = m.latLngToLayerPoint(at);
      let best: MapLine | null = null;
      let bestDistance = 6; // pixels
      for (const line of lines) {
        const a = m.latLngToLayerPoint(line.from);
        const b = m.latLngToLayerPoint(line.to);
        const d = L.LineUtil.pointToSegmentDistance(p, a, b);
        if (d < bestDistance) {
          bestDistance = d;
          best = line;
        }
      }
      return best;
    };
    const click = (e: L.LeafletMouseEvent) => {
      const hit = handlers.current.onSelect ? nearest(e.latlng) : null;
      if (hit) handlers.current.onSelect?.(hit.id);
      else handlers.current.onPick?.([Number(e.latlng.lat.toFixed(6)), Number(e.latlng.lng.toFixed(6))]);
    };
    let pending = false;
    const hover = (e: L.LeafletMouseEvent) => {
      if (pending || lines.length === 0) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        const hit = nearest(e.latlng);
        if (hit) tooltip.setLatLng(e.latlng).setContent(typeof hit.title === "function" ? hit.title() : hit.title).addTo(m);
        else tooltip.remove();
      });
    };
    m.on("click", click);
    m.on("mousemove", hover);
    return () => {
      m.off("zoomend", label);
      m.off("click", click);
      m.off("mousemove", hover);
      tooltip.remove();
    };
  }, [lines, markers]);

  useEffect(() => {
    let stale = false;
    const fitTo = (points: LatLon[]) => {
      if (stale || !map.current || points.length === 0) return;
      // Room above for the labels (they sit over their markers), below for the attribution.
      // No animation: a page that leaves the tab mid-zoom would remove the map under it
      // (Leaflet then fails on the gone panes, "_leaflet_pos").
      map.current.fitBounds(L.latLngBounds(points), { paddingTopLeft: [56, 44], paddingBottomRight: [48, 36], maxZoom: 15, animate: false });
    };
    if (!fitCity) fitTo(fit ?? []);
    else {
      // The city is the base map's extent (with raster tiles there is none: the points alone).
      void (tileUrl() ? Promise.resolve(null) : loadBasemap()).then((data) => {
        const city: LatLon[] = data?.bbox ? [[data.bbox[0], data.bbox[1]], [data.bbox[2], data.bbox[3]]] : [];
        fitTo([...city, ...(fit ?? [])]);
      });
    }
    return () => { stale = true; };
  }, [JSON.stringify(fit ?? []), fitCity]);

  return <div ref={element} class="map" style={{ height }} role="application" aria-label={label} data-testid="map" />;
}

/** One colour per state, every one distinct from every other (CIE ΔE over 27 for each
 * pair) and at least 3.9:1 against the map's background. Orders are drawn dashed, trips
 * solid; the console's legend is built from this table, so the two cannot drift apart. */
export const STATUS_COLOURS: Record<string, string> = {
  posted: "#b35c00",
  offered: "#c2185b",
  accepted: "#1f4e9c",
  picked_up: "#7b1fa2",
  delivered: "#1e7b3a",
  settled: "#5c6b00",
  disputed: "#d32f2f",
  failed: "#6d1b1b",
  cancelled: "#6b6f76",
  expired: "#9c6b4e",
  open: "#00838f",
  assigned: "#212121",
};

/** The states the live map draws: orders in their life's order, then trips. */
export const ORDER_STATES = ["posted", "offered", "accepted", "picked_up", "delivered", "settled", "disputed", "failed", "cancelled", "expired"];
export const TRIP_STATES = ["open", "assigned"];

/** A point entered by a map click or typed as two numbers (kept as typed). */
export interface PointInput {
  text: [string, string];
  point: LatLon | null; // null until both numbers are valid
  type: (index: 0 | 1, value: string) => void;
  set: (at: LatLon | null) => void;
}

export function usePoint(): PointInput {
  const [text, setText] = useState<[string, string]>(["", ""]);
  const parsed = text.map((t) => (t.trim() === "" ? Number.NaN : Number(t)));
  const point: LatLon | null = parsed.some(Number.isNaN) ? null : [parsed[0] as number, parsed[1] as number];
  return {
    text,
    point,
    type: (index, value) => setText(index === 0 ? [value, text[1]] : [text[0], value]),
    set: (at) => setText(at ? [String(at[0]), String(at[1])] : ["", ""]),
  };
}
