"""Password rules at sign-up, at account creation by the operator and at a password change:
not the email, not one character repeated, not one of the most common passwords."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters, profiles

from crowdship.service import security
from crowdship.service.entities.accounts.passwords import check
from crowdship.service.errors import Invalid
from tests.service.conftest import PASSWORD, SERVICE_HASHER
from tests.service.test_points import _point


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8"),
        ("ann.virtanen@example.com", "email"),
        ("ANN.VIRTANEN", "email"),
        ("my-ann.virtanen-pass", "email"),
        ("aaaaaaaaaa", "repeated"),
        ("Password1", "common"),
        ("12345678", "common"),
        ("Salasana1", "common"),
    ],
)
def test_weak_passwords_are_refused_naming_the_field(password, problem):
    with pytest.raises(Invalid) as refused:
        check(password, "ann.virtanen@example.com", field="new_password")
    assert refused.value.detail["field"] == "new_password"
    assert problem in refused.value.problem


def test_a_passphrase_passes():
    check("correct horse battery staple", "ann@example.com")
    check("ann-pass-1", "ann@example.com")  # a short local part may appear


def test_the_service_hashes_passwords_with_argon2id_at_its_default_cost():
    """The service's hasher: Argon2id at RFC 9106's low-memory profile (argon2-cffi's
    default). The tests' in-process services swap in the cheapest one (conftest)."""
    stored = SERVICE_HASHER.hash(PASSWORD)
    assert extract_parameters(stored) == profiles.RFC_9106_LOW_MEMORY
    assert SERVICE_HASHER.verify(stored, PASSWORD)
    # What the tests' services use instead: still Argon2id, and either checks the other's.
    cheap = security.hash_password(PASSWORD)
    assert extract_parameters(cheap).type == profiles.RFC_9106_LOW_MEMORY.type
    assert security.verify_password(cheap, PASSWORD)
    assert SERVICE_HASHER.verify(cheap, PASSWORD)
    assert security.verify_password(stored, PASSWORD)
    assert not security.verify_password(stored, "wrong-horse-1")


def signup(email, password):
    return {
        "email": email,
        "password": password,
        "role": "customer",
        "name": "Ann",
        "phone": "+358401234567",
    }


def test_sign_up_refuses_a_weak_password(service):
    client = service.client()
    common = client.post("/auth/register", json=signup("ann@example.com", "password123"))
    assert common.status_code == 422, common.text
    assert common.json()["errors"][0]["field"] == "password"
    mine = client.post("/auth/register", json=signup("virtanen@example.com", "virtanen2026"))
    assert mine.status_code == 422 and "email" in mine.json()["detail"]
    ok = client.post("/auth/register", json=signup("ann@example.com", "a-good-long-pass"))
    assert ok.status_code == 201, ok.text


def test_a_password_change_keeps_the_rules(service):
    courier = service.party("courier", assessed=False)
    for new, problem in [("qwertyuiop", "common"), (PASSWORD, "current")]:
        answer = courier.put(
            "/me/password", json={"current_password": PASSWORD, "new_password": new}
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == "new_password" and problem in answer.json()["detail"]
    assert courier.get("/me").status_code == 200  # refused changes revoke nothing


def test_the_operator_cannot_give_staff_a_weak_password(service):
    operator = service.party("operator")
    point = _point(operator)
    staff = operator.post(
        f"/pickup-points/{point['id']}/staff",
        json={"email": "desk@x.dev", "password": "iloveyou", "name": "Desk", "phone": "+3584077"},
    )
    assert staff.status_code == 422, staff.text
    assert staff.json()["field"] == "password"
