from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    Courier,
    Operator,
    PathId,
    ReadSession,
    WriteSession,
)
from crowdship.service.entities.accounts.attempts import AssessmentAttempt
from crowdship.service.entities.accounts.models import User
from crowdship.service.entities.accounts.schemas import UserPublic
from crowdship.service.entities.accounts.trust_schemas import (
    AnswersIn,
    AssessmentPublic,
    AttemptPublic,
    PayoutAccountIn,
    PolicyIn,
    PolicyPublic,
    Reliability,
    SuspendIn,
)
from crowdship.service.routes.contract import refusals
from crowdship.service.schemas import IdParam
from crowdship.service.workflows import trust as service

router = APIRouter(route_class=CommittingRoute, tags=["couriers"])


@router.get("/assessment", response_model=AssessmentPublic)
def assessment(actor: Courier, session: ReadSession, context: Context) -> AssessmentPublic:
    """Courier: the tutorial (the rules), this attempt's paper (questions drawn from a bank,
    questions and options shuffled), the pass mark and where you stand. Only couriers who
    passed get offers or may grab orders."""
    return service.show(session, context, actor)


@router.post("/assessment", response_model=AttemptPublic, responses=refusals(409))
def take_assessment(
    data: AnswersIn, actor: Courier, session: WriteSession, context: Context
) -> AssessmentAttempt:
    """Courier: answer every question of your current paper (id -> index of the option as
    shown). You learn your score, not which answers were wrong; after a failure, wait
    before trying again, and the next attempt is a new paper."""
    return service.take(session, context, actor, data)


@router.get("/assessment/policy", response_model=PolicyPublic)
def assessment_policy(actor: Operator, session: ReadSession, context: Context) -> PolicyPublic:
    """Operator: the pass mark, questions per attempt and wait after a failure in force, and
    the size and topics of the question bank."""
    return service.show_policy(session, context, actor)


@router.put("/assessment/policy", response_model=PolicyPublic)
def set_assessment_policy(
    data: PolicyIn, actor: Operator, session: WriteSession, context: Context
) -> PolicyPublic:
    """Operator: change the pass mark, the questions per attempt or the wait after a failure
    (attempts from now on)."""
    return service.set_policy(session, context, actor, data)


@router.put("/me/payout-account", response_model=UserPublic)
def bind_payout_account(data: PayoutAccountIn, actor: Courier, session: WriteSession) -> User:
    """Courier: the bank account (IBAN) your payouts go to. Payouts wait until one is bound."""
    return service.set_payout_account(session, actor, data.iban)


@router.get("/couriers", response_model=list[Reliability])
def couriers(
    actor: Operator,
    session: ReadSession,
    context: Context,
    ids: Annotated[list[IdParam] | None, Query(max_length=1000)] = None,
) -> list[Reliability]:
    """Operator: every courier's standing and reliability (offers answered, grabs,
    withdrawals, deliveries, failures, incidents, rating)."""
    return service.reliability(session, context, actor, ids)


@router.post("/couriers/{courier_id}/suspend", response_model=UserPublic, responses=refusals(409))
def suspend(
    courier_id: PathId, data: SuspendIn, actor: Operator, session: WriteSession, context: Context
) -> User:
    """Operator: no more offers or grabs; pending offers are taken back."""
    return service.suspend(session, context, actor, courier_id, data.reason)


@router.post("/couriers/{courier_id}/reinstate", response_model=UserPublic, responses=refusals(409))
def reinstate(courier_id: PathId, actor: Operator, session: WriteSession, context: Context) -> User:
    return service.reinstate(session, context, actor, courier_id)
