"""The receiver's tracking page shows the code to give at the door (issue 17), and only the
receiver's: the sender's link never shows it, and it shows only while a hand-over needs it."""

from __future__ import annotations

import re

from crowdship.service.workflows import notifying
from tests.service.conftest import Service, order_body
from tests.service.flows import picked_up


def links(texts: list[str]) -> list[str]:
    return [m.group(1) for t in texts if (m := re.search(r"(/track/\S+)$", t))]


def test_the_receivers_link_shows_the_door_code_the_senders_does_not(service: Service) -> None:
    shop = service.party("merchant", phone="+358405550020")
    courier = service.party("courier", phone="+358405550021")
    receiver_phone = "+358405550022"
    order_id, code = picked_up(service, shop, courier, order_body(receiver_phone=receiver_phone))
    notifying.run(service.context)
    anyone = service.client()
    receiver_link = links(service.sms.to(receiver_phone))[-1]
    sender_link = links(service.sms.to(shop.phone or ""))[-1]
    assert receiver_link != sender_link
    seen = anyone.get(receiver_link).json()
    assert seen["status"] == "picked_up" and seen["door_code"] == code
    assert anyone.get(sender_link).json()["door_code"] is None
    # Once delivered, the code has done its job and is no longer shown.
    assert courier.post(f"/orders/{order_id}/deliver", json={"code": code}).status_code == 200
    assert anyone.get(receiver_link).json()["door_code"] is None


def test_a_fresh_code_after_an_unlock_is_the_one_shown(service: Service) -> None:
    operator = service.party("operator")
    shop = service.party("merchant")
    courier = service.party("courier")
    receiver_phone = "+358405550023"
    order_id, code = picked_up(service, shop, courier, order_body(receiver_phone=receiver_phone))
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        courier.post(f"/orders/{order_id}/deliver", json={"code": wrong})
    notifying.run(service.context)
    link = links(service.sms.to(receiver_phone))[-1]
    assert service.client().get(link).json()["door_code"] is None  # locked: nothing to give
    assert operator.post(f"/orders/{order_id}/unlock").status_code == 200
    fresh = re.search(r"([0-9]{6})$", service.sms.to(receiver_phone)[-1]).group(1)
    assert service.client().get(link).json()["door_code"] == fresh
    assert courier.post(f"/orders/{order_id}/deliver", json={"code": fresh}).status_code == 200
