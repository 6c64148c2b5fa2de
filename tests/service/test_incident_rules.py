"""One open dispute per order, on SQLite and PostgreSQL: while an order is disputed, another
report (by the sender again, or by another party) is 409 naming the open incident, and adds
nothing to the operator's queue or to the courier's record. Once the operator upholds the
delivery (pay) a new problem can be reported until settlement; after a refund the order has
failed and takes none."""

from __future__ import annotations

from tests.service.conftest import Service, order_body
from tests.service.flows import delivered


def test_a_disputed_order_takes_no_second_incident_until_it_is_decided(service: Service) -> None:
    operator = service.party("operator")
    merchant = service.party("merchant")
    receiver = service.party("customer", phone="+358405550301")
    courier = service.party("courier")
    order_id = delivered(service, merchant, courier, order_body(receiver_phone="+358405550301"))

    first = merchant.post(
        f"/orders/{order_id}/incidents", json={"kind": "damaged", "note": "box crushed"}
    )
    assert first.status_code == 201, first.text
    incident = first.json()
    assert merchant.get(f"/orders/{order_id}").json()["status"] == "disputed"

    for party, kind in ((merchant, "damaged"), (merchant, "lost"), (receiver, "not_received")):
        again = party.post(f"/orders/{order_id}/incidents", json={"kind": kind, "note": "x"})
        assert again.status_code == 409, again.text
        assert again.json() == {
            "detail": f"order {order_id} is disputed: incident {incident['id']} (damaged, "
            "reported by the sender at 2026-11-23 08:00 UTC) is open until the operator "
            "decides it",
            "status": "disputed",
        }
    assert [i["id"] for i in merchant.get(f"/orders/{order_id}/incidents").json()] == [
        incident["id"]
    ]
    assert [i["id"] for i in operator.get("/incidents").json()] == [incident["id"]]
    (row,) = operator.get("/couriers", params={"ids": [courier.id]}).json()
    assert row["incidents"] == 1

    # Upheld: the delivery stands, and a new problem may be reported (before settlement).
    pay = operator.post(f"/incidents/{incident['id']}/resolve", json={"resolution": "pay"})
    assert pay.status_code == 200, pay.text
    reopened = receiver.post(f"/orders/{order_id}/incidents", json={"kind": "not_received"})
    assert reopened.status_code == 201, reopened.text
    assert merchant.get(f"/orders/{order_id}").json()["status"] == "disputed"
    assert reopened.json()["reporter_role"] == "receiver"
    blocked = merchant.post(f"/orders/{order_id}/incidents", json={"kind": "damaged"})
    assert blocked.status_code == 409
    assert (
        f"incident {reopened.json()['id']} (not_received, reported by the receiver"
        in blocked.json()["detail"]
    )

    # Refunded: the order has failed and takes no more reports.
    refund = operator.post(
        f"/incidents/{reopened.json()['id']}/resolve", json={"resolution": "refund"}
    )
    assert refund.status_code == 200, refund.text
    late = merchant.post(f"/orders/{order_id}/incidents", json={"kind": "damaged"})
    assert late.status_code == 409 and late.json()["status"] == "failed", late.text
    assert operator.get("/incidents").json() == []


def test_the_openapi_document_declares_the_refusal(service: Service) -> None:
    spec = service.client().get("/openapi.json").json()
    operation = spec["paths"]["/orders/{order_id}/incidents"]["post"]
    refusal = operation["responses"]["409"]
    assert refusal["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert "open incident" in operation["description"]
