"""Notifications (issue 19.2): each state change reaches the sender and the receiver with the
tracking link, a new offer reaches the courier with its expiry, an order taken off a trip
reaches its courier; once per event, through the channel each person chose; a failed send
is retried and, when it gives up, shown to the operator."""

from __future__ import annotations

import re

from crowdship.service.notify import Notifier, SendFailed
from crowdship.service.workflows import notifying
from tests.service.conftest import Service, order_body, trip_body


class Broken(Notifier):
    def send(self, channel: str, address: str, subject: str, body: str) -> None:
        raise SendFailed(f"{channel} gateway down")


def test_state_changes_offers_and_tracking(service: Service) -> None:
    operator = service.party("operator")
    shop = service.party("merchant", phone="+358405550010")
    courier = service.party("courier", phone="+358405550011")
    receiver_phone = "+358405550012"  # a receiver without an account: by SMS
    order_id = shop.post("/orders", json=order_body(receiver_phone=receiver_phone)).json()["id"]
    courier.post("/trips", json=trip_body())
    assert operator.post("/matching/run").json()["offers"] == 1

    notifying.run(service.context)
    to_receiver = service.sms.to(receiver_phone)
    assert [m for m in to_receiver if "is posted" in m] and [
        m for m in to_receiver if "offered" in m
    ]
    assert any("is posted" in m for m in service.sms.to(shop.phone or ""))
    offer_text = [m for m in service.sms.to(courier.phone or "") if "new offer" in m]
    assert len(offer_text) == 1 and "Answer by 08:10 UTC" in offer_text[0]
    sent_before = len(service.sms.sent)
    notifying.run(service.context)  # the same events again: nothing is sent twice
    assert len(service.sms.sent) == sent_before

    link = re.search(r"(/track/\S+)$", to_receiver[0])
    assert link is not None
    page = service.client().get(link.group(1))
    assert page.status_code == 200, page.text
    assert page.json()["order_id"] == order_id and page.json()["status"] == "offered"
    assert receiver_phone not in page.text and "sender" not in page.text
    forged = service.client().get(f"/track/{order_id}-{'0' * 24}")
    assert forged.status_code == 404
    non_ascii = service.client().get(f"/track/{order_id}-ä{'0' * 23}")  # was a 500
    assert non_ascii.status_code == 404, non_ascii.text
    mine = shop.get("/notifications").json()
    assert mine and all(n["recipient_id"] == shop.id for n in mine)


def test_channels_and_a_courier_taken_off_a_trip(service: Service) -> None:
    operator = service.party("operator")
    shop = service.party("merchant")
    receiver = service.party("customer", phone="+358405550013")
    courier = service.party("courier", phone="+358405550014")
    chosen = receiver.client.put("/me/notifications", json={"channel": "email"})
    assert chosen.status_code == 200, chosen.text
    bad = receiver.client.put("/me/notifications", json={"channel": "pigeon"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "channel"
    order_id = shop.post("/orders", json=order_body(receiver_phone=receiver.phone or "")).json()[
        "id"
    ]
    trip = courier.post("/trips", json=trip_body()).json()["id"]
    assert courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip}).status_code == 200
    service.clock.advance(10)
    service.relogin(operator, shop, receiver, courier)
    assert operator.post(f"/orders/{order_id}/release", json={"note": "no show"}).status_code == 200
    notifying.run(service.context)
    to_receiver = receiver.get("/notifications").json()
    assert to_receiver and {n["channel"] for n in to_receiver} == {"email"}
    assert {n["address"] for n in to_receiver} == {receiver.email}
    assert not service.sms.to(receiver.phone or "")  # by email now, not SMS
    taken = [m for m in service.sms.to(courier.phone or "") if "taken off your trip" in m]
    assert len(taken) == 1 and "no show" in taken[0]

    # The sender cancels an order the courier carries: the courier hears of that too.
    again = shop.post("/orders", json=order_body(receiver_phone=receiver.phone or "")).json()["id"]
    trip = courier.post("/trips", json=trip_body(depart=40)).json()["id"]
    assert courier.post(f"/orders/{again}/grab", json={"trip_id": trip}).status_code == 200
    assert shop.post(f"/orders/{again}/cancel").status_code == 200
    notifying.run(service.context)
    taken = [m for m in service.sms.to(courier.phone or "") if "taken off your trip" in m]
    assert len(taken) == 2 and f"order {again}" in taken[1]


def test_failed_sends_are_retried_then_shown_to_the_operator(service: Service) -> None:
    operator = service.party("operator")
    shop = service.party("merchant")
    working = service.context.notifier
    service.context.notifier = Broken(sms=working.sms)
    shop.post("/orders", json=order_body(receiver_phone="+358405550015"))
    notifying.run(service.context)
    waiting = operator.get("/notifications", params={"status": "pending"}).json()
    assert waiting and all(n["attempts"] == 1 for n in waiting)
    assert "gateway down" in waiting[0]["last_error"]
    for _ in range(5):
        service.clock.advance(60)
        notifying.run(service.context)
    service.relogin(operator)
    failed = operator.get("/notifications", params={"status": "failed"}).json()
    assert len(failed) == len(waiting) and all(n["attempts"] == 5 for n in failed)

    service.context.notifier = working
    again = operator.post(f"/notifications/{failed[0]['id']}/retry")
    assert again.status_code == 200 and again.json()["status"] == "pending"
    assert operator.post(f"/notifications/{failed[0]['id']}/retry").status_code == 409
    notifying.run(service.context)
    sent = operator.get("/notifications", params={"status": "sent"}).json()
    assert [n["id"] for n in sent] == [failed[0]["id"]]
