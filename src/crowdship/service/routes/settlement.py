from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    Courier,
    Limit,
    Operator,
    PathId,
    ReadSession,
)
from crowdship.service.entities.ledger import ledger
from crowdship.service.entities.ledger.models import PayoutRun, SettlementRun
from crowdship.service.entities.ledger.schemas import (
    DayIn,
    PayoutResult,
    PayoutRunPublic,
    SettlementRunPublic,
    SettleResult,
    WalletPublic,
)
from crowdship.service.routes.contract import refusals
from crowdship.service.schemas import Text
from crowdship.service.workflows import settlement as service

router = APIRouter(route_class=CommittingRoute, tags=["settlement"])


@router.get("/wallet", response_model=WalletPublic)
def wallet(actor: Courier, session: ReadSession, context: Context) -> service.Wallet:
    """Courier: what you have earned: pending (delivered, not settled), held (disputed),
    due (payout scheduled, T+2) and paid."""
    return service.wallet(session, context, actor)


@router.post("/settlement/runs", response_model=SettleResult, responses=refusals(409))
async def settle(data: DayIn, actor: Operator, context: Context) -> SettleResult:
    """Operator: settle orders delivered up to the end of ``day`` (local time) now, as the
    daily job would. Running it again books nothing twice."""
    outcome = await run_in_threadpool(service.settle, context, data.day, "operator")
    return SettleResult(
        run=None if outcome.run is None else SettlementRunPublic.model_validate(outcome.run),
        held_back=outcome.held_back,
    )


@router.get("/settlement/runs", response_model=list[SettlementRunPublic])
def settlement_runs(
    actor: Operator, session: ReadSession, limit: Limit = 50
) -> list[SettlementRun]:
    return service.settlement_runs(session, actor, limit)


@router.post("/payouts/runs", response_model=PayoutResult, responses=refusals(409))
async def pay_out(data: DayIn, actor: Operator, context: Context) -> PayoutResult:
    """Operator: pay every scheduled payout due by ``day`` to the couriers' bound accounts
    and write the run's CSV. Running it again pays nobody twice."""
    outcome = await run_in_threadpool(service.pay_out, context, data.day, "operator")
    return PayoutResult(
        run=None if outcome.run is None else PayoutRunPublic.model_validate(outcome.run),
        held=outcome.held,
        carried=outcome.carried,
    )


@router.get("/payouts/runs", response_model=list[PayoutRunPublic])
def payout_runs(actor: Operator, session: ReadSession, limit: Limit = 50) -> list[PayoutRun]:
    return service.payout_runs(session, actor, limit)


@router.get("/payouts/runs/{run_id}/csv", response_class=PlainTextResponse)
async def payout_csv(run_id: PathId, actor: Operator, context: Context) -> str:
    """Operator: the run's payout file (courier, bound account, amount, orders)."""
    return await run_in_threadpool(service.csv_text, context, run_id)


@router.get("/ledger/balances")
def balances(
    actor: Operator,
    session: ReadSession,
    prefix: Annotated[Text, Query(max_length=64, description="e.g. payable:")] = "",
) -> dict[str, int]:
    """Operator: every ledger account's balance in cents (debits positive)."""
    return ledger.balances(session, prefix)
