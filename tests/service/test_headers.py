"""Security headers on API answers, and CORS closed unless CROWDSHIP_CORS_ORIGINS lists
origins."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crowdship.service.settings import Settings
from tests.service.conftest import PASSWORD, running_service


def test_every_answer_has_nosniff_and_no_referrer(service):
    client = service.client()
    for answer in [
        client.get("/health"),
        client.get("/orders"),  # 401
        client.post("/orders", content=b"x" * 2_000_000),  # 413, refused by the body limit
        client.get("/openapi.json"),
    ]:
        assert answer.headers["X-Content-Type-Options"] == "nosniff", answer.status_code
        assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_sign_in_answers_are_never_cached(service):
    courier = service.party("courier", assessed=False)
    client = service.client()
    token = client.post("/auth/token", data={"username": courier.email, "password": PASSWORD})
    assert token.status_code == 200
    assert token.headers["Cache-Control"] == "no-store"
    cookie = client.post("/auth/session", json={"email": courier.email, "password": PASSWORD})
    assert cookie.headers["Cache-Control"] == "no-store"
    assert "no-store" not in service.client().get("/health").headers.get("Cache-Control", "")


def test_cors_is_closed_by_default(service):
    preflight = service.client().options(
        "/orders",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    plain = service.client().get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_cors_admits_only_the_configured_origins(database_url):
    origins = "https://app.example.org, http://localhost:5173"
    with running_service(database_url, cors_origins=origins) as service:
        client = service.client()
        preflight = client.options(
            "/orders",
            headers={
                "Origin": "https://app.example.org",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "access-control-allow-credentials" not in preflight.headers
        answer = client.get("/health", headers={"Origin": "http://localhost:5173"})
        assert answer.headers["access-control-allow-origin"] == "http://localhost:5173"
        other = client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        refused = client.options(
            "/orders",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert refused.status_code == 400


def test_an_origin_with_a_path_is_refused_at_start():
    with pytest.raises(ValidationError, match="CROWDSHIP_CORS_ORIGINS"):
        Settings(cors_origins="https://app.example.org/pages")
