"""The notification feed reads order events by position; on PostgreSQL an event can commit
after a later one was read. Such an event must still be notified, once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from crowdship.service.entities.notifications.models import Notification
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import OrderEvent
from crowdship.service.gaps import IdGaps
from crowdship.service.workflows.notifying import enqueue_from_events
from tests.service.conftest import START, order_body, postgres_schema_url, running_service


def test_gaps_remember_holes_until_they_turn_up_or_grow_old() -> None:
    gaps = IdGaps(give_up_s=60)
    gaps.saw(0, [1, 2, 5, 7])
    assert gaps.pending() == [3, 4, 6]
    gaps.saw(7, [8], found_late=[4])
    assert gaps.pending() == [3, 6]
    gaps.saw(8, [])  # nothing new: no new holes
    assert gaps.pending() == [3, 6]
    old = IdGaps(give_up_s=0.01)
    old.saw(0, [3])
    assert old.pending() == [1, 2]
    time.sleep(0.02)
    assert old.pending() == []  # a rolled-back transaction's ids never turn up


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from postgres_schema_url()


def _event(order_id: int, note: str) -> OrderEvent:
    return OrderEvent(
        order_id=order_id,
        at=START,
        actor_id=None,
        action="fail",
        from_status=OrderStatus.POSTED,
        to_status=OrderStatus.FAILED,
        note=note,
    )


@pytest.mark.postgres
def test_an_event_that_commits_late_is_still_notified_once(postgres_url: str) -> None:
    with running_service(postgres_url) as service:
        sender = service.party("merchant")
        first = sender.post("/orders", json=order_body()).json()["id"]
        second = sender.post("/orders", json=order_body()).json()["id"]
        db = service.context.db
        assert enqueue_from_events(service.context) > 0  # the postings

        slow = db.write_session()
        early = _event(first, "slow")
        slow.add(early)
        slow.flush()  # its id is taken now, its commit comes later
        with db.write() as fast:
            later = _event(second, "fast")
            fast.add(later)
            fast.commit()
        assert later.id > early.id
        enqueue_from_events(service.context)  # reads past the uncommitted one
        slow.commit()
        slow.close()
        enqueue_from_events(service.context)
        enqueue_from_events(service.context)  # and not again

        with db.read() as session:
            keys = list(session.scalars(select(Notification.key)))
        for event in (early, later):
            mine = [k for k in keys if k.startswith(f"e{event.id}:")]
            assert mine, (event.id, keys)
            assert len(mine) == len(set(mine))
        assert service.context.notification_gaps.pending() == []


@pytest.mark.postgres
def test_the_live_feed_hands_on_an_event_that_commits_late(postgres_url: str) -> None:
    import asyncio

    from crowdship.service.entities.accounts.actor import Actor
    from crowdship.service.entities.accounts.models import Role
    from crowdship.service.workflows.live import LiveFeed, Subscriber

    with running_service(postgres_url) as service:
        sender = service.party("merchant")
        first = sender.post("/orders", json=order_body()).json()["id"]
        second = sender.post("/orders", json=order_body()).json()["id"]
        db = service.context.db
        operator = Actor(id=0, role=Role.OPERATOR, name="op", phone=None, point_id=None)

        async def follow() -> list[int]:
            feed = LiveFeed(service.context, interval_s=0.05)
            page = Subscriber(operator)
            await feed.subscribe(page, None)
            slow = db.write_session()
            slow.add(_event(first, "slow"))
            slow.flush()
            with db.write() as fast:
                fast.add(_event(second, "fast"))
                fast.commit()
            await asyncio.sleep(0.3)  # the tail reads past the uncommitted event
            await asyncio.to_thread(slow.commit)
            slow.close()
            await asyncio.sleep(0.3)
            await feed.close()
            heard = []
            while not page.queue.empty():
                heard.append(page.queue.get_nowait()["order_id"])
            return heard

        heard = asyncio.run(follow())
        assert sorted(heard) == sorted([first, second]), heard
