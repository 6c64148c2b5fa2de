"""Browser tests: a real ``crowdship serve --demo`` process on a free port, driven through
its pages in Debian's Chromium by Playwright. Nothing is mocked: the pages call the API,
the API writes the SQLite file, the SMS provider writes the log these tests read codes from.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.service.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "src" / "crowdship" / "web" / "dist" / "index.html"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parent / "screenshots"
PASSWORD = "demo-pass-1"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def chromium_path() -> str:
    found = os.environ.get("CROWDSHIP_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("Chromium is missing: scripts/test installs Debian's chromium package")
    return found


@dataclass
class Server:
    url: str
    log: Path
    started: datetime  # when the demo city was seeded (its orders are posted then), UTC

    def sms_to(self, phone: str) -> list[str]:
        """The texts the service sent to ``phone`` (the log SMS provider's lines)."""
        pattern = re.compile(rf"SMS to {re.escape(phone)}: (.*)$")
        return [m.group(1) for m in map(pattern.search, self.log.read_text().splitlines()) if m]

    def wait_for_sms(self, phone: str, contains: str, timeout: float = 10.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for text in reversed(self.sms_to(phone)):
                if contains in text:
                    return text
            time.sleep(0.2)
        raise AssertionError(f"no SMS to {phone} containing {contains!r}: {self.sms_to(phone)}")


@contextmanager
def serving(data: Path, *options: str, **environment: str) -> Iterator[Server]:
    """``crowdship serve --demo`` as its own process on a free port, until the block ends;
    ``environment`` adds settings (``CROWDSHIP_...`` variables)."""
    if not DIST.exists():
        pytest.fail(f"{DIST} is missing: run bash scripts/setup (it builds the pages)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CROWDSHIP_DATA_DIR": str(data),
        "CROWDSHIP_PUBLIC_URL": url,
        "CROWDSHIP_SMS_PROVIDER": "log",
        # The scheduler sends the notification outbox (tracking links); a short tick sends
        # promptly. Matching stays on its 40-minute interval: the tests run batches by hand.
        "CROWDSHIP_TICK_SECONDS": "1",
        # Every test signs in from 127.0.0.1, the operator many times a minute: the sign-in
        # limits (tested in tests/service) would refuse a whole suite's worth.
        "CROWDSHIP_SIGN_IN_LIMIT": "0",
        "CROWDSHIP_SIGN_IN_ADDRESS_LIMIT": "0",
        **environment,
    }
    env.pop("CROWDSHIP_DATABASE_URL", None)
    log = data / "serve.log"
    command = [str(Path(sys.executable).with_name("crowdship")), "serve", "--demo", *options]
    started = datetime.now(UTC)
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)], cwd=data, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        # A start that fails ends the process, seen at once; the deadline is for a hang (a
        # fresh checkout compiles the matcher's kernels at start-up, slow beside a second worker).
        end = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                    if json.load(answer)["status"] == "ok":
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > end:
                    raise AssertionError(f"the service did not start:\n{log.read_text()}") from None
                time.sleep(0.3)
        yield Server(url, log, started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
            hung = False
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            hung = True
    # Reached only when the block itself passed: its own failure is the one to report.
    if hung:
        raise AssertionError(f"crowdship serve did not stop 20 s after SIGTERM:\n{log.read_text()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo city, still, on real time: the tests are the only ones acting."""
    with serving(tmp_path_factory.mktemp("web-demo"), "--no-live") as running:
        yield running


# One Chromium per test file, not per session: while sync Playwright is open it keeps an
# asyncio loop running in the main thread, and a test of another file that the same
# worker runs later (scripts/test spreads the files over two) could not start its own.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def pages(browser, server):
    """Opens a fresh browser context (its own cookies) per role: ``pages(width)``."""
    contexts = []

    def open_page(viewport: dict[str, int] = DESKTOP):
        # bypass_csp: only so axe-core can be injected; the pages themselves run under the CSP.
        context = browser.new_context(
            viewport=viewport, base_url=server.url, bypass_csp=True, timezone_id="UTC"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, email: str, path: str = "/") -> None:
    page.goto(path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def sign_up(page, role: str, name: str, email: str, phone: str) -> None:
    page.goto("/")
    page.get_by_role("button", name="Create an account").click()
    page.get_by_label("I want to").select_option(role)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Phone").fill(phone)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Sign out").wait_for()


def check_accessibility(page, name: str) -> None:
    """axe-core in the page: no serious or critical violation."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: accessibility violations {json.dumps(bad, indent=1)}"


def field_error(scope, name: str):
    """The message a page shows beside the field ``name`` (the API's field name)."""
    return scope.locator(f'.field-error[data-field="{name}"]')


def screenshot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def right_answers() -> dict[str, str]:
    """Question text -> the right option's text, from the bundled assessment bank."""
    bank = ROOT / "src" / "crowdship" / "service" / "entities" / "accounts" / "assessment.toml"
    data = tomllib.loads(bank.read_text())
    return {q["text"]: q["options"][q["answer"]] for q in data["questions"]}
