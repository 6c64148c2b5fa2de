"""GET /trips lists a courier's trips in the order they are read: the coming ones first,
the next to leave on top; then the rest, the latest first; limit and offset page through
that one order. It listed the oldest 100 by departure, so a courier with more than 100
trips behind them never saw a new one."""

from __future__ import annotations

from tests.service.conftest import Service, order_body, trip_body


def test_the_coming_trips_come_first_and_the_rest_pages_latest_first(service: Service) -> None:
    merchant = service.party("merchant")
    courier = service.party("courier")
    # 150 trips, each leaving a minute after the last; then the clock passes them all.
    past = []
    for i in range(150):
        answer = courier.post("/trips", json=trip_body(depart=30 + i, arrive=60 + i))
        assert answer.status_code == 201, answer.text
        past.append(answer.json()["id"])
    cancelled = courier.post("/trips", json=trip_body(depart=200, arrive=260)).json()["id"]
    assert courier.post(f"/trips/{cancelled}/cancel").status_code == 200
    service.clock.advance(300)
    service.relogin(courier, merchant)
    # Coming: registered latest-leaving first, so that neither the id nor the order of
    # registration gives the listing's order.
    coming = [
        courier.post("/trips", json=trip_body(depart=300 + later, arrive=400 + later)).json()["id"]
        for later in (90, 30, 60)
    ]
    carrying = courier.post("/trips", json=trip_body(depart=320, arrive=420)).json()["id"]
    order_id = merchant.post("/orders", json=order_body(earliest=300, latest=540)).json()["id"]
    grabbed = courier.post(f"/orders/{order_id}/grab", json={"trip_id": carrying})
    assert grabbed.status_code == 200, grabbed.text

    first = courier.get("/trips").json()
    assert len(first) == 100
    expected_coming = [carrying, coming[1], coming[2], coming[0]]  # leave +20, +30, +60, +90
    assert [t["id"] for t in first[:4]] == expected_coming
    assert first[0]["status"] == "assigned"
    # Then the rest, the latest departure first: the cancelled trip, then the past ones.
    rest = [cancelled, *reversed(past)]
    assert [t["id"] for t in first[4:]] == rest[:96]

    # limit and offset page through the same order, nothing twice, nothing left out.
    pages = []
    for offset in range(0, 200, 50):
        page = courier.get("/trips", params={"limit": 50, "offset": offset})
        assert page.status_code == 200, page.text
        pages += [t["id"] for t in page.json()]
    assert pages == [*expected_coming, *rest]

    # A status filter keeps the order: the open ones, coming first.
    open_trips = [t["id"] for t in courier.get("/trips", params={"status": "open"}).json()]
    assert open_trips[:3] == expected_coming[1:]
    assert open_trips[3:6] == list(reversed(past))[:3]
    # The operator's listing, every courier's, is in the same order.
    operator = service.party("operator")
    assert [t["id"] for t in operator.get("/trips", params={"limit": 4}).json()] == (
        expected_coming
    )
