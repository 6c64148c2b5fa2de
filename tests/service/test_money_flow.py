"""Money over HTTP on SQLite and PostgreSQL: the operator's tariff, quotes, payment at
receipt (prepaid and cash on delivery), settlement, the courier's wallet, T+2 payouts and
their CSV, and the ledger."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from crowdship.service.money import MAX_FEE_CENTS
from crowdship.service.workflows import notifying
from tests.service.conftest import Service, order_body
from tests.service.flows import delivered, picked_up

TARIFF: dict[str, Any] = {
    "base_cents": 400,
    "per_km_cents": 100,
    "size_surcharge_cents": {"small": 0, "medium": 200, "large": 500},
    "urgent_window_min": 90,
    "urgent_surcharge_cents": 300,
    "peak_multiplier": 1.5,
    "peak_windows": [{"start": "07:00", "end": "09:00", "weekdays": [0, 1, 2, 3, 4]}],
    "courier_share_pct": 75,
}
QUOTE_FIELDS = (
    "pickup_lat",
    "pickup_lon",
    "delivery_lat",
    "delivery_lon",
    "earliest_pickup",
    "latest_delivery",
    "size",
)


def test_operator_sets_the_tariff_and_quotes_follow_it(service: Service) -> None:
    operator = service.party("operator")
    merchant = service.party("merchant")
    before = merchant.get("/pricing").json()
    assert before["version"] == 0 and before["currency"] == "EUR"

    assert merchant.client.put("/pricing", json=TARIFF).status_code == 403
    bad = operator.client.put("/pricing", json={**TARIFF, "peak_multiplier": 0.5})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "peak_multiplier"
    bad = operator.client.put(
        "/pricing", json={**TARIFF, "size_surcharge_cents": {"small": 0, "huge": 1}}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].startswith("size_surcharge_cents")  # .huge
    bad = operator.client.put(
        "/pricing", json={**TARIFF, "peak_windows": [{"start": "09:00", "end": "07:00"}]}
    )
    assert bad.status_code == 422 and "not after start" in bad.text

    changed = operator.client.put("/pricing", json=TARIFF)
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 1
    assert merchant.get("/pricing").json()["base_cents"] == 400

    # 08:00 UTC on a Monday is peak only in the deployment's zone if it says so; the tests
    # run in UTC, where 08:00 is inside 07:00-09:00.
    body = {k: v for k, v in order_body(latest=60).items() if k in QUOTE_FIELDS}
    quote = merchant.post("/quotes", json={**body, "size": "large"}).json()
    parts = quote["breakdown"]
    assert parts["base"] == 400 and parts["size"] == 500 and parts["urgency"] == 300
    subtotal = parts["base"] + parts["distance"] + parts["size"] + parts["urgency"]
    assert parts["peak"] == int(subtotal * 0.5 + 0.5)  # half up, never to even
    assert quote["fee_cents"] == subtotal + parts["peak"]
    assert quote["courier_cents"] + quote["platform_cents"] == quote["fee_cents"]
    assert quote["tariff_version"] == 1

    posted = merchant.post("/orders", json={**order_body(latest=60), "size": "large"})
    assert posted.status_code == 201, posted.text
    order = posted.json()
    assert order["fee_cents"] == quote["fee_cents"]
    assert order["courier_cents"] == quote["courier_cents"]
    assert order["fee_breakdown"] == parts and order["tariff_version"] == 1

    # A later change does not touch the posted order.
    operator.client.put("/pricing", json={**TARIFF, "base_cents": 900})
    assert merchant.get(f"/orders/{order['id']}").json()["fee_cents"] == quote["fee_cents"]


def test_a_fee_over_what_an_order_may_cost_is_refused(service: Service) -> None:
    """A tariff at its bounds over a long way gave a fee past 32 bits: PostgreSQL refused
    to store it (500). Neither a quote nor an order may cost more than MAX_FEE_CENTS."""
    operator = service.party("operator")
    merchant = service.party("merchant")
    dear = {**TARIFF, "per_km_cents": 1_000_000}  # 10,000 EUR a km: 2e10 cents to Sydney
    assert operator.client.put("/pricing", json=dear).status_code == 200
    far = order_body(delivery=(-33.87, 151.21), latest=60 * 24 * 29)  # Helsinki to Sydney
    for path, body in (("/quotes", {k: far[k] for k in QUOTE_FIELDS}), ("/orders", far)):
        answer = merchant.post(path, json=body)
        assert answer.status_code == 422, answer.text
        problem = answer.json()["errors"][0]
        assert problem["field"] == "delivery_lat", problem
        assert "more than the 100,000.00 EUR an order may cost" in problem["problem"], problem
    assert merchant.get("/orders").json() == []
    # A short way at the same tariff still fits.
    near = order_body()
    near_quote = merchant.post("/quotes", json={k: near[k] for k in QUOTE_FIELDS}).json()
    assert 0 < near_quote["fee_cents"] <= MAX_FEE_CENTS
    assert merchant.post("/orders", json=near).status_code == 201


def test_an_earliest_pickup_in_the_past_is_priced_from_now(service: Service) -> None:
    """A parcel said to be ready since last night (or year 1) is picked up from now: the
    urgency surcharge and the peak hour are those of now. Backdating earliest_pickup made
    a window of an hour look like one of ten (no urgency) outside the peak hours."""
    operator = service.party("operator")
    merchant = service.party("merchant")
    assert operator.client.put("/pricing", json=TARIFF).status_code == 200
    now = {k: v for k, v in order_body(latest=60).items() if k in QUOTE_FIELDS}
    honest = merchant.post("/quotes", json=now).json()
    assert honest["breakdown"]["urgency"] == 300 and honest["breakdown"]["peak"] > 0, honest
    for earliest in (-10 * 60, -60 * 24 * 365 * 2026):  # Sunday 22:00, and year 1
        backdated = {**now, "earliest_pickup": order_body(earliest=earliest)["earliest_pickup"]}
        assert merchant.post("/quotes", json=backdated).json() == honest, earliest
        posted = merchant.post("/orders", json={**order_body(latest=60), **backdated})
        assert posted.status_code == 201, posted.text
        assert posted.json()["fee_cents"] == honest["fee_cents"]
        assert posted.json()["fee_breakdown"] == honest["breakdown"]


def test_an_earliest_pickup_in_the_past_is_stored_as_now(service: Service) -> None:
    """The order keeps what its price counts from: a parcel ready since last night (or year
    1) is ready now. It was stored as given, so its record (and the matching, which reads
    it) disagreed with its price; a future earliest pickup stays as given."""
    merchant = service.party("merchant")
    now = service.clock.now()
    for earliest in (-10 * 60, -60 * 24 * 365 * 2026, -0.5):
        body = {
            **order_body(latest=60),
            "earliest_pickup": order_body(earliest=earliest)["earliest_pickup"],
        }
        posted = merchant.post("/orders", json=body)
        assert posted.status_code == 201, posted.text
        stored = merchant.get(f"/orders/{posted.json()['id']}").json()
        for answer in (posted.json(), stored):
            assert datetime.fromisoformat(answer["earliest_pickup"]) == now, (earliest, answer)
    ahead = merchant.post("/orders", json=order_body(earliest=20, latest=120)).json()
    assert datetime.fromisoformat(ahead["earliest_pickup"]) == now + timedelta(minutes=20)


def test_cash_on_delivery_is_collected_and_shown_to_both_sides(service: Service) -> None:
    sender = service.party("customer")
    receiver = service.party("customer", phone="+358405550002")
    courier = service.party("courier")
    body = {
        **order_body(receiver_phone=receiver.phone or ""),
        "payment_method": "cash_on_delivery",
    }
    order_id, code = picked_up(service, sender, courier, body)
    fee = sender.get(f"/orders/{order_id}").json()["fee_cents"]

    missing = courier.post(f"/orders/{order_id}/deliver", json={"code": code})
    assert missing.status_code == 422
    assert missing.json()["field"] == "cash_collected_cents"
    short = courier.post(
        f"/orders/{order_id}/deliver", json={"code": code, "cash_collected_cents": fee - 1}
    )
    assert short.status_code == 422 and "collect exactly" in short.json()["detail"]
    assert sender.get(f"/orders/{order_id}").json()["status"] == "picked_up"

    done = courier.post(
        f"/orders/{order_id}/deliver", json={"code": code, "cash_collected_cents": fee}
    )
    assert done.status_code == 200, done.text
    for party in (sender, receiver, courier):
        seen = party.get(f"/orders/{order_id}").json()
        assert seen["payment_method"] == "cash_on_delivery"
        assert seen["paid_cents"] == fee and seen["paid_at"] is not None

    prepaid = delivered(service, sender, courier, order_body(receiver_phone=receiver.phone or ""))
    refused = sender.get(f"/orders/{prepaid}").json()
    assert refused["payment_method"] == "prepaid" and refused["paid_cents"] == refused["fee_cents"]


def test_settlement_wallet_and_t_plus_2_payouts(service: Service) -> None:
    operator = service.party("operator")
    merchant = service.party("merchant")
    courier = service.party("courier")
    other = service.party("courier")
    first = delivered(service, merchant, courier, order_body())
    second = delivered(service, merchant, courier, order_body())
    fees = [merchant.get(f"/orders/{i}").json() for i in (first, second)]
    share = sum(o["courier_cents"] for o in fees)

    wallet = courier.get("/wallet").json()
    assert wallet["pending_cents"] == share and wallet["due_cents"] == 0
    assert merchant.get("/wallet").status_code == 403
    assert other.get("/wallet").json()["pending_cents"] == 0

    today = "2026-11-23"
    early = operator.post("/settlement/runs", json={"day": today})
    assert early.status_code == 409 and "not over yet" in early.json()["detail"]
    # The last day there is: its end overflowed the calendar (500).
    last = operator.post("/settlement/runs", json={"day": "9999-12-31"})
    assert last.status_code == 409, last.text
    assert last.json() == {
        "detail": "day 9999-12-31 is not over yet (UTC); settle it after midnight",
        "status": "open",
    }
    for day in ("9999-12-31", "2026-12-24"):  # nor pays what is not due
        assert operator.post("/payouts/runs", json={"day": day}).status_code == 409
    assert courier.post("/settlement/runs", json={"day": "2026-11-22"}).status_code == 403

    service.clock.advance(24 * 60)  # Tuesday 08:00
    service.relogin(operator, merchant, courier)
    settled = operator.post("/settlement/runs", json={"day": today})
    assert settled.status_code == 200, settled.text
    run = settled.json()["run"]
    assert run["orders"] == 2 and run["payouts"] == 1
    assert run["total_cents"] == sum(o["fee_cents"] for o in fees)
    assert merchant.get(f"/orders/{first}").json()["status"] == "settled"
    again = operator.post("/settlement/runs", json={"day": today}).json()
    assert again["run"] is None

    wallet = courier.get("/wallet").json()
    assert wallet["pending_cents"] == 0 and wallet["due_cents"] == share
    assert wallet["next_due_on"] == "2026-11-25"  # T+2
    assert wallet["payouts"][0]["order_ids"] == [first, second]

    # Not due yet on Tuesday, and Wednesday's run cannot be run early; held on Wednesday
    # without a bound account.
    assert operator.post("/payouts/runs", json={"day": "2026-11-24"}).json()["run"] is None
    early = operator.post("/payouts/runs", json={"day": "2026-11-25"})
    assert early.status_code == 409 and early.json()["status"] == "not_due", early.text
    assert "cannot run before that day; today is 2026-11-24" in early.json()["detail"]
    far = operator.post("/payouts/runs", json={"day": "2027-06-30"})
    assert far.status_code == 409 and far.json()["status"] == "not_due"
    service.clock.advance(24 * 60)  # Wednesday 08:00
    service.relogin(operator, merchant, courier)
    held = operator.post("/payouts/runs", json={"day": "2026-11-25"}).json()
    assert held["run"] is None and held["held"] == {str(courier.id): share}

    bad = courier.client.put("/me/payout-account", json={"iban": "FI00 1234"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "iban"
    bad = courier.client.put("/me/payout-account", json={"iban": "FI21 1234 5600 0007 86"})
    assert bad.status_code == 422 and "check digits" in bad.text
    bound = courier.client.put("/me/payout-account", json={"iban": "FI21 1234 5600 0007 85"})
    assert bound.status_code == 200, bound.text
    assert bound.json()["payout_account"] == "FI2112345600000785"

    paid = operator.post("/payouts/runs", json={"day": "2026-11-25"})
    assert paid.status_code == 200, paid.text
    payout_run = paid.json()["run"]
    assert payout_run["total_cents"] == share and payout_run["couriers"] == 1
    notifying.run(service.context)  # the courier hears of the payout, once
    notifying.run(service.context)
    told = [m for m in service.sms.to(courier.phone or "") if "on its way" in m]
    assert len(told) == 1 and "FI2112345600000785" in told[0], told
    assert operator.post("/payouts/runs", json={"day": "2026-11-25"}).json()["run"] is None

    csv_text = operator.get(f"/payouts/runs/{payout_run['id']}/csv")
    assert csv_text.status_code == 200
    header, row = csv_text.text.strip().splitlines()
    assert header == "courier_id,courier_name,account,amount_cents,currency,orders,order_ids"
    assert row.split(",") == [
        str(courier.id),
        "courier 3",
        "FI2112345600000785",
        str(share),
        "EUR",
        "2",
        f"{first} {second}",
    ]
    assert courier.get(f"/payouts/runs/{payout_run['id']}/csv").status_code == 403

    wallet = courier.get("/wallet").json()
    assert (wallet["due_cents"], wallet["paid_cents"]) == (0, share)

    balances = operator.get("/ledger/balances").json()
    assert sum(balances.values()) == 0
    assert balances[f"payable:courier:{courier.id}"] == 0  # owed, then paid
    platform = sum(o["platform_cents"] for o in fees)
    assert balances["revenue:platform"] == -platform
    assert balances["cash:platform"] == platform  # prepaid fees in, the courier's share out
    assert courier.get("/ledger/balances").status_code == 403


def test_cash_on_a_refunded_order_is_owed_and_comes_off_the_next_payout(service: Service) -> None:
    """Issue 19.5: the courier collected cash, the operator refunds the order: the wallet
    shows the cash as owed, settlement books it as owed by the courier to the payer, and
    the courier's payout is the rest. Nothing vanishes; settling again books nothing."""
    operator = service.party("operator")
    merchant = service.party("merchant")
    receiver = service.party("customer", phone="+358405550003")
    courier = service.party("courier")
    body = {**order_body(receiver_phone=receiver.phone or ""), "payment_method": "cash_on_delivery"}
    order_id, code = picked_up(service, merchant, courier, body)
    fee = merchant.get(f"/orders/{order_id}").json()["fee_cents"]
    done = courier.post(
        f"/orders/{order_id}/deliver", json={"code": code, "cash_collected_cents": fee}
    )
    assert done.status_code == 200, done.text
    prepaid = delivered(service, merchant, courier, order_body())
    share = merchant.get(f"/orders/{prepaid}").json()["courier_cents"]

    disputed = receiver.post(
        f"/orders/{order_id}/incidents", json={"kind": "damaged", "note": "box crushed"}
    )
    assert disputed.status_code == 201, disputed.text
    refunded = operator.post(
        f"/incidents/{disputed.json()['id']}/resolve", json={"resolution": "refund"}
    )
    assert refunded.status_code == 200, refunded.text
    wallet = courier.get("/wallet").json()
    assert wallet["cash_owed_cents"] == fee
    assert wallet["pending_cents"] == share - fee

    service.clock.advance(24 * 60)
    service.relogin(operator, courier)
    run = operator.post("/settlement/runs", json={"day": "2026-11-23"})
    assert run.status_code == 200, run.text
    wallet = courier.get("/wallet").json()
    assert wallet["cash_owed_cents"] == 0 and wallet["pending_cents"] == 0
    assert wallet["due_cents"] == share - fee
    assert sorted(wallet["payouts"][0]["order_ids"]) == sorted([order_id, prepaid])
    balances = operator.get("/ledger/balances").json()
    assert balances["payable:refunds"] == -fee, balances
    assert balances[f"payable:courier:{courier.id}"] == -(share - fee)
    events = [e["action"] for e in operator.get(f"/orders/{order_id}/events").json()]
    assert events[-1] == "reclaim_cash"
    again = operator.post("/settlement/runs", json={"day": "2026-11-23"}).json()
    assert again["run"] is None
