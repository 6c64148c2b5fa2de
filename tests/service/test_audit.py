"""The audit log: every state-changing request of an operator (who, what, when, the answer),
readable by operators only."""

from __future__ import annotations

import time


def entries(operator, within=30.0, **params):
    # Recorded just after the answer is sent: wait for it (returns as soon as it is there).
    deadline = time.monotonic() + within
    while True:
        answer = operator.get("/audit", params=params)
        assert answer.status_code == 200, answer.text
        if answer.json() or time.monotonic() > deadline:
            return answer.json()
        time.sleep(0.05)


def test_operator_actions_are_recorded_with_who_what_when(service):
    operator, other = service.party("operator"), service.party("operator")
    courier = service.party("courier")
    suspended = operator.post(f"/couriers/{courier.id}/suspend", json={"reason": "checking"})
    assert suspended.status_code == 200, suspended.text
    refused = operator.post(f"/couriers/{courier.id}/suspend", json={"reason": "again"})
    assert refused.status_code == 409
    operator.get("/couriers")  # reading is not an action
    courier.post("/trips", json={})  # nor is anything another role does
    deadline = time.monotonic() + 30
    while len(log := entries(other)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(e["actor_id"], e["method"], e["path"], e["status"]) for e in log] == [
        (operator.id, "POST", f"/couriers/{courier.id}/suspend", 409),
        (operator.id, "POST", f"/couriers/{courier.id}/suspend", 200),
    ]
    assert log[0]["at"].startswith(service.clock.now().date().isoformat())
    assert log[0]["address"] == "127.0.0.1"
    # Nothing to wait for here: a few seconds in which a wrong entry could still show up.
    assert entries(other, within=3.0, actor_id=other.id) == []
    assert len(entries(other, actor_id=operator.id, limit=1)) == 1


def test_only_operators_read_it(service):
    courier = service.party("courier", assessed=False)
    assert courier.get("/audit").status_code == 403
    assert service.client().get("/audit").status_code == 401
