"""Trust in couriers: the onboarding assessment, suspension and reinstatement,
reliability, payout accounts. Never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts import repository as accounts
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.assessment import (
    Assessment,
    AssessmentError,
    Paper,
    Policy,
    load,
    paper_seed,
)
from crowdship.service.entities.accounts.attempts import AssessmentAttempt, AssessmentPolicy
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.accounts.trust_schemas import (
    AnswersIn,
    AssessmentPublic,
    PolicyIn,
    PolicyPublic,
    QuestionPublic,
    Reliability,
    SectionPublic,
)
from crowdship.service.entities.incidents import repository as incidents
from crowdship.service.entities.offers import repository as offers
from crowdship.service.entities.offers.lifecycle import OfferAction
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import HANDED_OVER, Action, OrderStatus
from crowdship.service.entities.ratings import service as ratings
from crowdship.service.errors import Conflict, Forbidden, Invalid, NotFound


def assessment(context: ServiceContext) -> Assessment:
    return load(context.settings.assessment_file)


def policy(session: Session, context: ServiceContext) -> Policy:
    """The operator's newest assessment policy, or the assessment file's defaults."""
    row = accounts.newest_policy(session)
    if row is None:
        return assessment(context).default_policy
    return Policy(row.pass_mark, row.questions_per_attempt, row.retry_after_min)


def _paper(context: ServiceContext, rules: Policy, courier_id: int, attempt: int) -> Paper:
    seed = paper_seed(context.settings.signing_key, courier_id, attempt)
    return assessment(context).draw(rules.questions_per_attempt, seed)


def _courier(session: Session, courier_id: int, for_update: bool = False) -> User:
    user = accounts.courier(session, courier_id, for_update)
    if user is None:
        raise NotFound(f"courier {courier_id} not found")
    return user


def _next_attempt(session: Session, rules: Policy, courier_id: int) -> tuple[int, datetime | None]:
    done = accounts.attempts(session, courier_id)
    if done.last_at is None:
        return done.count, None
    return done.count, done.last_at + timedelta(minutes=rules.retry_after_min)


def show(session: Session, context: ServiceContext, actor: Actor) -> AssessmentPublic:
    """The tutorial, and the paper of the courier's next attempt."""
    actor.require(Role.COURIER)
    rules = policy(session, context)
    user = _courier(session, actor.id)
    attempts, retry_at = _next_attempt(session, rules, actor.id)
    waiting = (
        retry_at
        if retry_at and retry_at > context.clock.now() and not user.assessment_passed_at
        else None
    )
    paper = _paper(context, rules, actor.id, attempts + 1)
    return AssessmentPublic(
        tutorial=[SectionPublic(title=s.title, text=s.text) for s in assessment(context).tutorial],
        attempt=attempts + 1,
        questions=[
            QuestionPublic(id=q.question.id, text=q.question.text, options=q.options)
            for q in paper.questions
        ],
        pass_mark=rules.pass_mark,
        retry_after_min=rules.retry_after_min,
        passed_at=user.assessment_passed_at,
        attempts=attempts,
        next_attempt_at=waiting,
    )


def take(
    session: Session, context: ServiceContext, actor: Actor, data: AnswersIn
) -> AssessmentAttempt:
    """Grade the answers to the courier's current paper (option indices as shown)."""
    actor.require(Role.COURIER)
    rules = policy(session, context)
    user = _courier(session, actor.id, for_update=True)
    if user.assessment_passed_at is not None:
        raise Conflict(
            f"you passed the assessment at {user.assessment_passed_at:%Y-%m-%d %H:%M} UTC",
            status="passed",
        )
    now = context.clock.now()
    attempts, retry_at = _next_attempt(session, rules, actor.id)
    if retry_at is not None and now < retry_at:
        raise Conflict(
            f"you can try again at {retry_at:%H:%M} UTC ({rules.retry_after_min:g} minutes "
            "after a failed attempt)",
            status="waiting",
        )
    paper = _paper(context, rules, actor.id, attempts + 1)
    for q in paper.questions:
        chosen = data.answers.get(q.question.id)
        if chosen is None:
            raise Invalid(f"answers.{q.question.id}", "is missing: answer every question")
        if not 0 <= chosen < len(q.order):
            raise Invalid(
                f"answers.{q.question.id}", f"{chosen} is not an option (0-{len(q.order) - 1})"
            )
    unknown = sorted(set(data.answers) - {q.question.id for q in paper.questions})
    if unknown:
        raise Invalid(f"answers.{unknown[0]}", "is not a question of your current paper")
    score = paper.score(data.answers)
    attempt = AssessmentAttempt(
        courier_id=actor.id,
        at=now,
        score=score,
        out_of=len(paper.questions),
        passed=score >= rules.pass_mark,
        answers=dict(data.answers),
    )
    if attempt.passed:
        user.assessment_passed_at = now
    return accounts.add_attempt(session, attempt)


def show_policy(session: Session, context: ServiceContext, actor: Actor) -> PolicyPublic:
    actor.require(Role.OPERATOR)
    rules = policy(session, context)
    bank = assessment(context)
    return PolicyPublic(
        pass_mark=rules.pass_mark,
        questions_per_attempt=rules.questions_per_attempt,
        retry_after_min=rules.retry_after_min,
        bank_size=len(bank.questions),
        topics=bank.topics,
    )


def set_policy(
    session: Session, context: ServiceContext, actor: Actor, data: PolicyIn
) -> PolicyPublic:
    """Operator: a new pass mark, paper size or retry wait, for every attempt from now on."""
    actor.require(Role.OPERATOR)
    rules = Policy(data.pass_mark, data.questions_per_attempt, data.retry_after_min)
    try:
        rules.check(len(assessment(context).questions))
    except AssessmentError as error:
        field, _, problem = str(error).partition(": ")
        raise Invalid(field, problem) from error
    accounts.add_policy(
        session,
        AssessmentPolicy(
            pass_mark=rules.pass_mark,
            questions_per_attempt=rules.questions_per_attempt,
            retry_after_min=rules.retry_after_min,
            created_at=context.clock.now(),
            created_by=actor.id,
        ),
    )
    return show_policy(session, context, actor)


def refusal(user: User, context: ServiceContext) -> str | None:
    """Why this courier may not get offers or grab orders now; None if they may."""
    if user.suspended_at is not None:
        return f"your account is suspended: {user.suspension_reason}"
    if context.settings.assessment_required and user.assessment_passed_at is None:
        return "pass the onboarding assessment first (GET /assessment)"
    return None


def require_may_work(session: Session, context: ServiceContext, actor: Actor) -> None:
    reason = refusal(_courier(session, actor.id), context)
    if reason is not None:
        raise Forbidden(reason)


def require_courier_may_work(
    session: Session, context: ServiceContext, courier_id: int, order_status: str
) -> None:
    """For the operator handing an order to this courier: 409 if they may not work now,
    with the order's state (``order_status``: unchanged by the refusal), as every 409 has."""
    reason = refusal(_courier(session, courier_id), context)
    if reason is not None:
        raise Conflict(f"courier {courier_id} cannot take orders: {reason}", status=order_status)


def suspend(
    session: Session, context: ServiceContext, actor: Actor, courier_id: int, reason: str
) -> User:
    """Stop offers and grabs; pending offers are taken back (their orders return to the
    pool). Orders the courier already carries stay with them for the operator to handle."""
    actor.require(Role.OPERATOR)
    user = _courier(session, courier_id, for_update=True)
    if user.suspended_at is not None:
        raise Conflict(f"courier {courier_id} is already suspended", status="suspended")
    now = context.clock.now()
    user.suspended_at, user.suspension_reason = now, reason
    for taken in offers.transition_many(session, OfferAction.TAKE_BACK, now, courier_id=courier_id):
        orders.transition(
            session,
            taken.order_id,
            Action.REJECT,
            actor.id,
            now,
            note=f"offer {taken.offer_id} taken back: courier {courier_id} suspended",
        )
    session.flush()
    return user


def reinstate(session: Session, context: ServiceContext, actor: Actor, courier_id: int) -> User:
    actor.require(Role.OPERATOR)
    user = _courier(session, courier_id, for_update=True)
    if user.suspended_at is None:
        raise Conflict(f"courier {courier_id} is not suspended", status="active")
    user.suspended_at, user.suspension_reason = None, ""
    session.flush()
    return user


def set_payout_account(session: Session, actor: Actor, iban: str) -> User:
    actor.require(Role.COURIER)
    user = _courier(session, actor.id, for_update=True)
    user.payout_account = iban
    session.flush()
    return user


def reliability(
    session: Session, context: ServiceContext, actor: Actor, courier_ids: list[int] | None
) -> list[Reliability]:
    """Per courier: offers and how they were answered, grabs, withdrawals, deliveries,
    failures, incidents, rating. ``None``: every courier."""
    actor.require(Role.OPERATOR)
    couriers = accounts.couriers(session, courier_ids)
    ids = [c.id for c in couriers]
    if not ids:
        return []
    offer_counts = offers.answers_by_courier(session, ids)
    actions = orders.actions_by(session, ids, [Action.GRAB, Action.WITHDRAW])
    late_releases = orders.concerning(session, ids, Action.LATE_RELEASE)
    outcomes = orders.statuses_by_courier(session, ids)
    incident_counts = incidents.count_by_courier(session, ids)
    scored = ratings.scores(session, context, ids)
    out = []
    for c in couriers:
        answered = {s: offer_counts[(c.id, s)] for s in ("accepted", "rejected", "expired")}
        total_answered = sum(answered.values())
        delivered = sum(outcomes[(c.id, str(s))] for s in HANDED_OVER)
        out.append(
            Reliability(
                courier_id=c.id,
                name=c.name,
                email=c.email,
                assessment_passed_at=c.assessment_passed_at,
                suspended_at=c.suspended_at,
                suspension_reason=c.suspension_reason,
                payout_account=c.payout_account,
                offers=sum(n for (cid, _), n in offer_counts.items() if cid == c.id),
                accepted=answered["accepted"],
                rejected=answered["rejected"],
                expired=answered["expired"],
                acceptance_rate=(
                    round(answered["accepted"] / total_answered, 4) if total_answered else None
                ),
                grabs=actions[(c.id, Action.GRAB.value)],
                withdrawals=actions[(c.id, Action.WITHDRAW.value)],
                late_releases=late_releases[c.id],
                delivered=delivered,
                failed=outcomes[(c.id, str(OrderStatus.FAILED))],
                incidents=incident_counts.get(c.id, 0),
                rating=scored[c.id].score,
                ratings=scored[c.id].ratings,
            )
        )
    return out
