"""`crowdship serve`, `crowdship create-operator` and `crowdship db upgrade` as a user runs
them: real processes, a real port, a SQLite file in a fresh data directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from crowdship.service.demo import OPERATOR_EMAIL, PASSWORD
from tests.service.conftest import free_port

EXE = shutil.which("crowdship") or str(Path(sys.executable).parent / "crowdship")


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CROWDSHIP_DATA_DIR": str(tmp_path / "data"), **env}
    if "CROWDSHIP_DATABASE_URL" not in env:
        environment.pop("CROWDSHIP_DATABASE_URL", None)
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, timeout=120, env=environment, cwd=tmp_path
    )


def test_create_operator_then_refuse_the_same_email(tmp_path: Path) -> None:
    """The first operator comes from the command; a second with the same email exits 2."""
    first = run(tmp_path, "create-operator", "--email", "op@x.dev", "--password", "secret-123")
    assert first.returncode == 0, first.stderr
    assert "operator op@x.dev created" in first.stdout
    assert (tmp_path / "data" / "crowdship.db").exists()
    again = run(tmp_path, "create-operator", "--email", "op@x.dev", "--password", "secret-123")
    assert again.returncode == 2
    assert again.stderr.strip() == "error: email op@x.dev is already registered"
    short = run(tmp_path, "create-operator", "--email", "b@x.dev", "--password", "short")
    assert short.returncode == 2 and "at least 8" in short.stderr


def test_bad_settings_and_unreachable_database_exit_2(tmp_path: Path) -> None:
    """One line naming the variable or the database; no traceback."""
    production = run(tmp_path, "db", "upgrade", CROWDSHIP_ENV="production")
    assert production.returncode == 2
    assert "CROWDSHIP_SECRET_KEY" in production.stderr and "Traceback" not in production.stderr
    interval = run(tmp_path, "db", "upgrade", CROWDSHIP_PLANNING_INTERVAL_MIN="-5")
    assert interval.returncode == 2 and "CROWDSHIP_PLANNING_INTERVAL_MIN" in interval.stderr
    nowhere = run(
        tmp_path,
        "db",
        "upgrade",
        CROWDSHIP_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none",
    )
    assert nowhere.returncode == 2 and "cannot reach the database" in nowhere.stderr
    assert len(nowhere.stderr.strip().splitlines()) == 1


def test_serve_demo_seeds_a_city_and_answers_http(tmp_path: Path) -> None:
    """`crowdship serve --demo` migrates, seeds, runs a first batch and serves the API."""
    port = free_port()
    environment = {**os.environ, "CROWDSHIP_DATA_DIR": str(tmp_path / "data")}
    environment.pop("CROWDSHIP_DATABASE_URL", None)
    process = subprocess.Popen(
        [EXE, "serve", "--demo", "--no-live", "--port", str(port), "--no-scheduler"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the demo service did not come up"
            time.sleep(0.3)
        login = httpx.post(
            f"{base}/auth/token", data={"username": OPERATOR_EMAIL, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        runs = httpx.get(f"{base}/matching/runs", headers=headers).json()
        assert len(runs) == 1 and runs[0]["offers"] > 0
        orders = httpx.get(f"{base}/orders", headers=headers).json()
        assert len(orders) == 35
        # The campus short leg: parcels waiting at the station, whatever the hour.
        assert sum(1 for o in orders if o["from_point_id"] is not None) == 5
        assert (tmp_path / "data" / "demo.db").exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "demo city seeded" in output
    assert "Traceback" not in output


def test_money_commands_refuse_bad_input_in_one_line(tmp_path: Path) -> None:
    """settle and payout: a bad date, a day not over yet, a payout day still ahead, a missing
    run; exit 2, no traceback."""
    bad = run(tmp_path, "settle", "--date", "2026-13-01")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: --date: '2026-13-01' is not a date (YYYY-MM-DD)"
    future = run(tmp_path, "settle", "--date", "2999-01-01")
    assert future.returncode == 2 and "not over yet" in future.stderr
    zone = run(tmp_path, "settle", "--date", "2026-01-01", CROWDSHIP_TIMEZONE="Mars/Olympus")
    assert zone.returncode == 2 and "CROWDSHIP_TIMEZONE" in zone.stderr
    nothing = run(tmp_path, "payout", "run", "--date", "2026-01-01")
    assert nothing.returncode == 0 and "nothing to pay" in nothing.stdout
    early = run(tmp_path, "payout", "run", "--date", "2999-01-01")
    assert early.returncode == 2 and "cannot run before that day" in early.stderr
    missing = run(tmp_path, "payout", "export", "7")
    assert missing.returncode == 2 and missing.stderr.strip() == "error: payout run 7 not found"
    for result in (bad, future, zone, early, missing):
        assert "Traceback" not in result.stderr


def test_tracking_links_point_at_the_port_served(monkeypatch) -> None:
    """The links in texts to receivers follow --host/--port unless CROWDSHIP_PUBLIC_URL says
    where the service is reached from outside."""
    from crowdship.cli.serve import with_public_url
    from crowdship.service.settings import Settings

    monkeypatch.delenv("CROWDSHIP_PUBLIC_URL", raising=False)
    assert with_public_url(Settings(), "127.0.0.1", 8765).public_url == "http://127.0.0.1:8765"
    assert with_public_url(Settings(), "0.0.0.0", 9000).public_url == "http://127.0.0.1:9000"
    assert with_public_url(Settings(), "::1", 9000).public_url == "http://[::1]:9000"
    monkeypatch.setenv("CROWDSHIP_PUBLIC_URL", "https://parcels.example")
    assert with_public_url(Settings(), "0.0.0.0", 9000).public_url == "https://parcels.example"
