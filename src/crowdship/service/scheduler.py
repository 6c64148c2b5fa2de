"""The background loop: expire offers and orders, run matching every planning interval, and
once a day settle yesterday and pay out what is due.

A thread, not the event loop, because the matcher is CPU-bound. Several service processes
may each run one: the matching lock and the "last run" check make the batches happen once
per interval, whoever runs them.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts import service as accounts
from crowdship.service.workflows import idempotency, notifying, settlement
from crowdship.service.workflows.matching import expire_offers, expire_orders, run_matching

log = logging.getLogger("crowdship.scheduler")


def tick(context: ServiceContext) -> None:
    """One pass: what is due expires, and a matching batch runs if the interval is up."""
    now = context.clock.now()
    with context.db.write() as session:
        offers = expire_offers(session, now)
        orders = expire_orders(session, context, now)
        idempotency.forget_old(session, now, context.settings.idempotency_hours)
        accounts.forget_expired_revocations(session, context.clock.wall())
        session.commit()
    if offers or orders:
        log.info("expired %d offers and %d orders", offers, orders)
    interval = timedelta(minutes=context.settings.planning_interval_min)
    run_matching(context, "scheduled", only_if_due=interval)
    settlement.daily(context)
    notifying.run(context)


class Scheduler:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="crowdship-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        seconds = self.context.settings.tick_seconds
        while not self._stop.is_set():
            try:
                tick(self.context)
            except Exception:  # keep the loop alive; the next tick tries again
                log.exception("scheduler tick failed")
            self._stop.wait(seconds)
