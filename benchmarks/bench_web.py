"""The pages in a real browser: how fast the console is usable, and the map at city scale.

    .venv/bin/python benchmarks/bench_web.py                 # ~1 min
    .venv/bin/python benchmarks/bench_web.py --runs 10 --trips 10000 --orders 5000

Each figure is measured in Debian's Chromium, driven by Playwright, against a real
``crowdship serve`` process on loopback, with the browser's own clocks
(``performance.now()``, paint timings, ``requestAnimationFrame``):

1. **Console on the demo**: from navigation to the city map's lines on screen (the first
   meaningful paint; the page marks it with User Timing, ``crowdship:map-drawn``, in the
   animation frame after drawing), signed in as the demo operator. First contentful paint
   is shown beside it.
2. **The map at city scale**: 10000 trips and 5000 open orders in the database; from
   navigation to all of them drawn on the console's map.
3. **Panning that map**: the mouse drags the map 600 px and back in 120 steps; every
   animation frame's duration during the drag is recorded (frames per second = 1000 / mean),
   and so is the redraw when the drag ends.

Targets (issue 17): console usable in < 1.5 s; map drawn in < 1 s; panning at >= 30 frames
per second. Medians over ``--runs`` page loads (the first load, with a cold cache, is shown
apart).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from bench_service import fill  # noqa: E402  (the service benchmark's bulk rows)
from crowdship.service.db import Database, migrate  # noqa: E402
from crowdship.service.entities.accounts.models import Role  # noqa: E402
from crowdship.service.entities.accounts.service import create_user  # noqa: E402

EXE = str(Path(sys.executable).parent / "crowdship")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "demo-pass-1"
console = Console()

# Resolves once the page has painted twice after this call: what is on screen is drawn.
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"  # noqa: E501
FCP = "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null"
RECORD_FRAMES = """() => {
  window.__frames = [];
  let last = performance.now();
  const tick = (now) => { window.__frames.push(now - last); last = now;
    if (!window.__stopFrames) requestAnimationFrame(tick); };
  window.__stopFrames = false;
  requestAnimationFrame(tick);
}"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(data: Path, *args: str, env: dict[str, str] | None = None):
    port = free_port()
    log = (data / "serve.log").open("w")
    process = subprocess.Popen(
        [EXE, "serve", "--port", str(port), *args],
        cwd=data,
        env={**os.environ, "CROWDSHIP_DATA_DIR": str(data), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the service did not start; see {log.name}") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def signed_in(browser, url: str, email: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=url)
    answer = context.request.post("/auth/session", data={"email": email, "password": PASSWORD})
    if answer.status != 200:
        raise SystemExit(f"sign-in as {email} failed: {answer.status} {answer.text()}")
    return context


def load_console(context, lines_expected: int | None) -> dict[str, float | None]:
    """Open the console; the time from navigation until the page's own User Timing mark
    says the map's lines are on screen (with the KPIs shown)."""
    page = context.new_page()
    page.goto("/console", wait_until="commit")
    page.wait_for_selector("[data-testid=kpis]")
    counts = page.wait_for_selector("[data-testid=map-counts]", timeout=60_000)
    drawn = page.wait_for_function(
        """n => performance.getEntriesByName('crowdship:map-drawn')
             .filter(m => n === null ? m.detail.lines > 0 : m.detail.lines === n)
             .map(m => m.startTime)[0]""",
        arg=lines_expected,
        timeout=60_000,
    ).json_value()
    kpis = page.evaluate(PAINTED)  # the KPIs were shown before this
    result = {
        "usable_ms": max(float(drawn), 0.0),
        "settled_ms": kpis,
        "fcp_ms": page.evaluate(FCP),
        "counts": counts.inner_text(),
    }
    page.close()
    return result


def pan(context) -> dict[str, float]:
    page = context.new_page()
    page.goto("/console")
    page.wait_for_selector("[data-testid=map-counts]", timeout=60_000)
    page.evaluate(PAINTED)
    box = page.get_by_test_id("map").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.evaluate(RECORD_FRAMES)
    page.mouse.down()
    for dx in list(range(0, 600, 10)) + list(range(600, 0, -10)):
        page.mouse.move(x - 300 + dx, y)
    frames = page.evaluate("() => { window.__stopFrames = true; return window.__frames; }")
    started = page.evaluate("() => performance.now()")
    page.mouse.up()  # the drag ends: Leaflet redraws the canvas for the new view
    redraw = page.evaluate(PAINTED) - started
    page.close()
    frames = frames[1:] or [0.0]
    return {
        "frames": len(frames),
        "mean_ms": statistics.fmean(frames),
        "p95_ms": sorted(frames)[int(0.95 * (len(frames) - 1))],
        "redraw_ms": redraw,
    }


def big_city(folder: Path, trips: int, orders: int) -> Path:
    """A SQLite file with an operator, ``trips`` free trips and ``orders`` open orders."""
    path = folder / "big.db"
    url = f"sqlite:///{path}"
    migrate(url)
    db = Database(url)
    now = datetime.now(UTC)
    fill(db, trips, orders, now, seed=17)
    with db.write() as session:
        create_user(session, "op@bench.dev", PASSWORD, Role.OPERATOR, "Op", None, now)
        session.commit()
    db.dispose()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads per figure (median)")
    parser.add_argument("--trips", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=5_000)
    options = parser.parse_args()
    chromium = os.environ.get("CROWDSHIP_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("Chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        demo = Path(scratch) / "demo"
        demo.mkdir()
        with serve(demo, "--demo", "--no-live", "--no-scheduler") as url:
            context = signed_in(browser, url, "operator@demo.crowdship.dev")
            loads = [load_console(context, None) for _ in range(options.runs + 1)]
            context.close()
        cold, warm = loads[0], loads[1:]
        usable = statistics.median(r["usable_ms"] for r in warm)  # type: ignore[misc]
        fcp = statistics.median(r["fcp_ms"] or 0.0 for r in warm)  # type: ignore[misc]
        rows.append(
            (
                "console usable on the demo",
                f"{usable:.0f} ms (FCP {fcp:.0f} ms; cold {cold['usable_ms']:.0f} ms)",
                "< 1500 ms",
                "met" if usable < 1500 else "NOT met",
            )
        )
        console.print(f"demo console: {warm[0]['counts']}")

        folder = Path(scratch) / "big"
        folder.mkdir()
        started = time.perf_counter()
        path = big_city(folder, options.trips, options.orders)
        console.print(
            f"{options.trips} trips and {options.orders} orders written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        env = {"CROWDSHIP_DATABASE_URL": f"sqlite:///{path}"}
        with serve(folder, "--no-scheduler", env=env) as url:
            context = signed_in(browser, url, "op@bench.dev")
            lines = options.trips + options.orders
            maps = [load_console(context, lines) for _ in range(options.runs + 1)]
            pans = [pan(context) for _ in range(max(1, options.runs // 2))]
            context.close()
        browser.close()
    drawn = statistics.median(r["usable_ms"] for r in maps[1:])  # type: ignore[misc]
    rows.append(
        (
            f"map drawn: {options.trips} trips + {options.orders} orders",
            f"{drawn:.0f} ms (cold {maps[0]['usable_ms']:.0f} ms)",
            "< 1000 ms",
            "met" if drawn < 1000 else "NOT met",
        )
    )
    mean = statistics.median(p["mean_ms"] for p in pans)
    p95 = statistics.median(p["p95_ms"] for p in pans)
    redraw = statistics.median(p["redraw_ms"] for p in pans)
    fps = 1000.0 / mean if mean else float("inf")
    rows.append(
        (
            "panning that map",
            f"{fps:.0f} frames/s (frame {mean:.1f} ms, p95 {p95:.1f} ms; redraw at the end "
            f"{redraw:.0f} ms)",
            ">= 30 frames/s",
            "met" if fps >= 30 else "NOT met",
        )
    )
    table = Table(title="bench_web: the pages in Chromium")
    for column in ("what", "measured", "target", ""):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(json.dumps({"console": loads, "map": maps, "pan": pans}, default=str)[:2000])


if __name__ == "__main__":
    main()
