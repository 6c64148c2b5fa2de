"""Tokens are revoked at logout (that token) and at a password change (every older token of
the account); the pages' sign-out revokes its cookie's token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crowdship.service.entities.accounts import service as accounts
from crowdship.service.security import TokenClaims
from tests.service.conftest import PASSWORD, running_service


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_logout_revokes_that_token_only(service):
    courier = service.party("courier", assessed=False)
    other = service.login(courier.email)
    client = service.client()
    token = service.login(courier.email)
    assert client.get("/me", headers=bearer(token)).status_code == 200
    assert client.post("/auth/logout", headers=bearer(token)).status_code == 204
    refused = client.get("/me", headers=bearer(token))
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert client.post("/auth/logout", headers=bearer(token)).status_code == 401
    assert client.get("/me", headers=bearer(other)).status_code == 200
    assert courier.get("/me").status_code == 200


def test_a_revoked_token_is_refused_by_another_service_process(service):
    """The revocation is in the database: a process that never saw the logout (its own
    caches) refuses the token too."""
    courier = service.party("courier", assessed=False)
    token, kept = service.login(courier.email), service.login(courier.email)
    assert service.client().post("/auth/logout", headers=bearer(token)).status_code == 204
    with running_service(service.context.settings.database_url) as other:
        assert other.client().get("/me", headers=bearer(token)).status_code == 401
        assert other.client().get("/me", headers=bearer(kept)).status_code == 200


def test_a_password_change_revokes_every_older_token(service):
    courier = service.party("courier", assessed=False)
    first, second = service.login(courier.email), service.login(courier.email)
    client = service.client()
    wrong = client.put(
        "/me/password",
        headers=bearer(first),
        json={"current_password": "not-it", "new_password": "a-new-long-pass"},
    )
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["field"] == "current_password"
    changed = client.put(
        "/me/password",
        headers=bearer(first),
        json={"current_password": PASSWORD, "new_password": "a-new-long-pass"},
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()["access_token"]
    for old in (first, second):
        assert client.get("/me", headers=bearer(old)).status_code == 401
    assert client.get("/me", headers=bearer(fresh)).status_code == 200
    old_password = {"username": courier.email, "password": PASSWORD}
    assert client.post("/auth/token", data=old_password).status_code == 401
    assert service.login(courier.email, "a-new-long-pass")


def test_the_pages_sign_out_revokes_the_cookie(service):
    courier = service.party("courier", assessed=False)
    browser = service.client()
    signed_in = browser.post("/auth/session", json={"email": courier.email, "password": PASSWORD})
    assert signed_in.status_code == 200
    token = browser.cookies["crowdship_session"]
    assert browser.get("/me").status_code == 200
    assert browser.delete("/auth/session").status_code == 204
    assert service.client().get("/me", headers=bearer(token)).status_code == 401
    # Signing out without a cookie, or with a forged one, still just clears the cookies.
    assert service.client().delete("/auth/session").status_code == 204
    forged = service.client()
    forged.cookies.set("crowdship_session", "not-a-token")
    assert forged.delete("/auth/session").status_code == 204


def test_expired_revocations_are_forgotten(service):
    courier = service.party("courier", assessed=False)
    now = datetime.now(UTC)
    with service.context.db.write() as session:
        accounts.logout(session, TokenClaims(courier.id, "old", 0, now - timedelta(minutes=1)))
        accounts.logout(session, TokenClaims(courier.id, "live", 0, now + timedelta(minutes=9)))
        session.commit()
        assert accounts.forget_expired_revocations(session, now) == 1
        session.commit()
        assert not accounts.is_revoked(session, "old")
        assert accounts.is_revoked(session, "live")
