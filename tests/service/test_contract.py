"""The API keeps its contract: schemathesis, with every check and every phase (examples,
coverage, fuzzing, stateful), finds nothing as each role against the demo service.

The service runs as ``crowdship serve --demo`` would, on a SQLite file of its own. The run is
bounded: CROWDSHIP_CONTRACT_SECONDS (default 40) per role, about 2.5 minutes in all, with
CROWDSHIP_CONTRACT_SEED (default 18; "random" for a new seed each run).
Reproduce a longer run with the command in docs/api.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import Service, free_port

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
CONFIG = HERE / "schemathesis.toml"
SECONDS = int(os.environ.get("CROWDSHIP_CONTRACT_SECONDS", "40"))
# A fixed seed by default, so that a run can be repeated; "random" for a new one each time.
SEED = os.environ.get("CROWDSHIP_CONTRACT_SEED", "18")
# The demo's accounts (service/demo.py), one per role; couriers and senders first, since the
# operator's run suspends couriers and changes the tariff.
ROLES = {
    "courier": "courier1@demo.crowdship.dev",
    "sender": "shop1@demo.crowdship.dev",
    "operator": "operator@demo.crowdship.dev",
}
# Never ends by design (Server-Sent Events): nothing to check but its first bytes.
EXCLUDED_PATHS = ["/events/stream"]


# Each demo service's log, by its address: a failure shows the service's tracebacks.
SERVER_LOGS: dict[str, Path] = {}


def server_errors(url: str) -> str:
    """The first tracebacks the service logged (a 500's cause), for a failure's message."""
    log = SERVER_LOGS.get(url)
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace")
    found = [text[m.start() : m.start() + 4000] for m in re.finditer("Traceback", text)]
    return "\nthe service logged:\n" + "\n".join(found[:3]) if found else ""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``crowdship serve --demo`` on a fresh SQLite file; its base URL."""
    data = tmp_path_factory.mktemp("contract")
    port = free_port()
    env = {
        **os.environ,
        "CROWDSHIP_DATA_DIR": str(data),
        "CROWDSHIP_DATABASE_URL": f"sqlite:///{data / 'demo.db'}",
        "CROWDSHIP_SECRET_KEY": "contract-test-secret-key-0123456789abcdef",
    }
    log = (data / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(VENV_BIN / "crowdship"),
            "serve",
            "--demo",
            "--no-live",
            "--no-scheduler",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    SERVER_LOGS[url] = data / "server.log"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the demo service did not start: {(data / 'server.log')}")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def login(url: str, email: str) -> str:
    answer = httpx.post(f"{url}/auth/token", data={"username": email, "password": "demo-pass-1"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def schemathesis(url: str, token: str, seconds: int, report: Path) -> subprocess.CompletedProcess:
    command = [
        str(VENV_BIN / "st"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-time",
        str(seconds),
        "--workers",
        "1",
        "--generation-database",
        "none",
        *([] if SEED == "random" else ["--seed", SEED]),
        "--report",
        "json",
        "--report-dir",
        str(report),
        "--no-color",
    ]
    for path in EXCLUDED_PATHS:
        command += ["--exclude-path", path]
    # In the report's folder: schemathesis keeps a cache of crashes where it runs.
    return subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 120, cwd=report
    )


@pytest.mark.parametrize("role", list(ROLES))
def test_schemathesis_finds_nothing(demo: str, role: str, tmp_path: Path) -> None:
    run = schemathesis(demo, login(demo, ROLES[role]), SECONDS, tmp_path)
    summary = run.stdout[run.stdout.rfind("SUMMARY") :]
    # "___ POST /orders ___" then "- ST103 Undocumented status code" for each failure
    failures = re.findall(r"^(?:_+ (.+?) _+|- (ST\d+ .*))$", run.stdout, flags=re.M)
    assert run.returncode == 0, (
        f"as {role}: {failures}\n{run.stdout[-20000:]}\n{run.stderr}{server_errors(demo)}"
    )
    assert "Tested:" in summary, summary


def test_the_document_declares_each_refusal_with_its_body(service: Service) -> None:
    document = httpx.get(f"{service.url}/openapi.json").json()
    problem = {"$ref": "#/components/schemas/Problem"}
    invalid = {"$ref": "#/components/schemas/ValidationProblem"}
    post_order = document["paths"]["/orders"]["post"]["responses"]
    assert set(post_order) >= {"201", "400", "401", "403", "413", "415", "422"}
    assert "415" not in document["paths"]["/auth/token"]["post"]["responses"]  # a form
    assert post_order["422"]["content"]["application/json"]["schema"] == invalid
    assert post_order["401"]["content"]["application/json"]["schema"] == problem
    assert "WWW-Authenticate" in post_order["401"]["headers"]
    deliver = document["paths"]["/orders/{order_id}/deliver"]["post"]["responses"]
    assert set(deliver) >= {"200", "403", "404", "409", "422", "423"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    hours = document["components"]["schemas"]["PointCreate"]["properties"]["opening_hours"]
    assert hours["propertyNames"]["enum"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert "Idempotency-Key" in [
        p["name"] for p in document["paths"]["/orders"]["post"]["parameters"]
    ]


def test_a_method_the_path_lacks_names_every_method_it_has(service: Service) -> None:
    answer = httpx.request("OPTIONS", f"{service.url}/trips/1")
    assert answer.status_code == 405
    assert {m.strip() for m in answer.headers["Allow"].split(",")} >= {"GET", "PATCH"}
