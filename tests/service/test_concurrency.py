"""Real concurrent requests: two couriers grab one order at the same moment."""

from __future__ import annotations

import threading
import time

import httpx

from tests.service.conftest import Service, order_body, trip_body

ROUNDS = 8


def test_two_couriers_grab_one_order_exactly_one_wins(service: Service) -> None:
    """Each round, two threads fire the grab together; one gets 200, the other 409."""
    merchant = service.party("merchant")
    couriers = [service.party("courier"), service.party("courier")]
    for round_ in range(ROUNDS):
        trips = [c.post("/trips", json=trip_body()).json()["id"] for c in couriers]
        order_id = merchant.post("/orders", json=order_body()).json()["id"]
        barrier = threading.Barrier(2)
        answers: list[httpx.Response] = [None, None]  # type: ignore[list-item]

        def grab(
            k: int,
            trip_id: int,
            order_id: int = order_id,
            barrier: threading.Barrier = barrier,
            answers: list[httpx.Response] = answers,
        ) -> None:
            barrier.wait()
            answer = couriers[k].post(f"/orders/{order_id}/grab", json={"trip_id": trip_id})
            # SQLite's one writer: on a loaded machine the pool may time out (503, "send the
            # request again"); a client does as told, and the race must still end 200/409.
            for _ in range(5):
                if answer.status_code != 503:
                    break
                time.sleep(0.5)
                answer = couriers[k].post(f"/orders/{order_id}/grab", json={"trip_id": trip_id})
            answers[k] = answer

        threads = [threading.Thread(target=grab, args=(k, trips[k])) for k in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 409], (round_, [a.text for a in answers])
        loser = next(a for a in answers if a.status_code == 409)
        assert loser.json()["status"] == "accepted"
        winner = next(k for k in range(2) if answers[k].status_code == 200)
        order = merchant.get(f"/orders/{order_id}").json()
        assert order["status"] == "accepted"
        assert order["trip_id"] == trips[winner]
        # The loser's trip stayed open: its grab was rolled back whole.
        loser_trip = couriers[1 - winner].get(f"/trips/{trips[1 - winner]}").json()
        assert loser_trip["status"] == "open"
        grabs = [
            e for e in merchant.get(f"/orders/{order_id}/events").json() if e["action"] == "grab"
        ]
        assert len(grabs) == 1


def test_many_concurrent_writes_all_complete(service: Service) -> None:
    """More simultaneous writers than the service has route threads: every post is answered
    201 and stored. (A commit that waited for a route thread while holding SQLite's one
    writer connection deadlocked here until the pool timed out.)"""
    writers = 4 * service.context.settings.threads
    merchants = [service.party("merchant") for _ in range(writers)]
    barrier = threading.Barrier(writers)
    codes: list[list[int]] = [[] for _ in range(writers)]

    def post(k: int) -> None:
        barrier.wait()
        for _ in range(3):
            codes[k].append(merchants[k].post("/orders", json=order_body()).status_code)

    threads = [threading.Thread(target=post, args=(k,)) for k in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [[201, 201, 201]] * writers
    operator = service.party("operator")
    assert len(operator.get("/orders", params={"limit": 1000}).json()) == 3 * writers
