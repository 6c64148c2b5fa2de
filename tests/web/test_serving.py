"""How ``crowdship serve`` answers for the pages (no browser needed): the app for a page
address, the API for everything else, security headers, a missing asset is a 404."""

from __future__ import annotations

import os
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crowdship.service.settings import Settings
from crowdship.web import Pages, PagesFirst


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app-1.js").write_text("console.log(1)")
    (tmp_path / "index.html").write_text(
        '<html><head><!--crowdship-settings--></head><script src="/assets/app-1.js"></script>'
    )
    return tmp_path


def client(dist, **settings) -> TestClient:
    api = FastAPI()

    @api.get("/track/{token}")
    def track(token: str) -> dict[str, str]:
        return {"token": token}

    base = Settings(database_url="sqlite://", scheduler=False, **settings)
    api.add_middleware(PagesFirst, pages=Pages(base, dist=dist))
    return TestClient(api)


HTML = {"Accept": "text/html,application/xhtml+xml"}


def test_the_test_client_runs_on_httpx2():
    """Starlette's TestClient takes httpx2 when it is installed, and otherwise warns (once,
    at import) that running it on httpx is deprecated: the dev dependencies pin httpx2."""
    import starlette.testclient

    assert starlette.testclient.httpx.__name__ == "httpx2"


def test_a_browser_gets_the_app_and_a_client_the_api(dist):
    web = client(dist)
    page = web.get("/console/orders", headers=HTML)
    assert page.status_code == 200 and "app-1.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert web.get("/track/5-abc", headers=HTML).text.startswith("<html>")
    assert web.get("/track/5-abc").json() == {"token": "5-abc"}  # curl and the pages' fetch
    assert web.get("/console/orders").status_code == 404  # not a page without text/html


def test_a_missing_asset_is_a_404_not_a_500(dist):
    assert client(dist).get("/assets/gone.js").status_code == 404


def test_a_rebuild_is_served_without_a_restart(dist):
    web = client(dist)
    assert "app-1.js" in web.get("/", headers=HTML).text
    index = dist / "index.html"
    index.write_text(index.read_text().replace("app-1.js", "app-2.js"))
    later = time.time() + 5
    os.utime(index, (later, later))
    assert "app-2.js" in web.get("/", headers=HTML).text


def test_the_tile_setting_reaches_the_page_and_its_policy(dist):
    web = client(dist, tile_url="https://tiles.example.org/{z}/{x}/{y}.png")
    page = web.get("/", headers=HTML)
    assert 'content="https://tiles.example.org/{z}/{x}/{y}.png"' in page.text
    assert "https://tiles.example.org" in page.headers["content-security-policy"]


def test_unbuilt_pages_say_how_to_build_them(tmp_path):
    page = client(tmp_path).get("/", headers=HTML)
    assert page.status_code == 503 and "scripts/setup" in page.text


def test_several_tile_hosts_are_allowed_together(dist):
    web = client(dist, tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    policy = web.get("/", headers=HTML).headers["content-security-policy"]
    assert "https://*.tile.example.org" in policy
