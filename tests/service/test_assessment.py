"""A tutorial and an assessment worth passing (issue 19.6): real questions on the rules,
drawn from a bank per attempt with questions and options shuffled, the pass mark, paper size
and retry wait set by the operator."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from crowdship.service.entities.accounts.assessment import (
    AssessmentError,
    Policy,
    load,
    paper_seed,
)
from tests.service.conftest import Service, right_answers

BANK = load()


def test_the_bank_covers_the_rules():
    assert set(BANK.topics) == {"codes", "withdrawal", "cash", "incidents", "points"}
    assert len(BANK.questions) >= 12
    titles = " ".join(s.title for s in BANK.tutorial).lower()
    for rule in ("codes", "5-minute", "cash", "incidents", "pickup points"):
        assert rule in titles
    assert all(len(q.options) == 3 for q in BANK.questions)


@pytest.mark.parametrize("count", [5, 6, 9])
def test_every_paper_covers_every_topic_and_shuffles(count: int):
    shown_first: Counter[int] = Counter()
    papers = set()
    for attempt in range(1, 60):
        paper = BANK.draw(count, paper_seed("key", 7, attempt))
        ids = [q.question.id for q in paper.questions]
        assert len(ids) == count == len(set(ids))
        assert {q.question.topic for q in paper.questions} == set(BANK.topics)
        for q in paper.questions:
            assert sorted(q.order) == list(range(len(q.question.options)))
            assert q.options[q.right] == q.question.options[q.question.answer]
            shown_first[q.right] += 1
        papers.add(tuple(ids))
    assert len(papers) > 50  # attempts differ
    assert len(shown_first) == 3  # the right option turns up in every position


def test_a_paper_is_fixed_for_an_attempt_and_secret():
    one = BANK.draw(6, paper_seed("key", 7, 1))
    assert BANK.draw(6, paper_seed("key", 7, 1)) == one
    assert BANK.draw(6, paper_seed("other key", 7, 1)) != one
    assert paper_seed("key", 7, 1) != hashlib.sha256(b"assessment:7:1").digest()


def test_policy_limits():
    with pytest.raises(AssessmentError, match="pass_mark: 7 is not between 1 and"):
        Policy(7, 6, 30).check(len(BANK.questions))
    with pytest.raises(AssessmentError, match="questions_per_attempt"):
        Policy(1, 99, 30).check(len(BANK.questions))


def test_courier_sees_the_tutorial_and_the_operator_sets_the_policy(service: Service) -> None:
    operator = service.party("operator")
    courier = service.party("courier", assessed=False)
    other = service.party("courier", assessed=False)
    shown = courier.get("/assessment").json()
    assert [s["title"] for s in shown["tutorial"]] == [s.title for s in BANK.tutorial]
    assert shown["pass_mark"] == 5 and len(shown["questions"]) == 6
    assert courier.get("/assessment").json()["questions"] == shown["questions"]  # stable
    assert other.get("/assessment").json()["questions"] != shown["questions"]

    assert courier.get("/assessment/policy").status_code == 403
    bad = operator.put(
        "/assessment/policy",
        json={"pass_mark": 9, "questions_per_attempt": 8, "retry_after_min": 5},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "pass_mark", bad.text
    changed = operator.put(
        "/assessment/policy",
        json={"pass_mark": 8, "questions_per_attempt": 8, "retry_after_min": 5},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["bank_size"] == len(BANK.questions)
    now = courier.get("/assessment").json()
    assert now["pass_mark"] == 8 and len(now["questions"]) == 8 and now["retry_after_min"] == 5

    # Seven right of eight no longer passes; the wait is the operator's 5 minutes.
    answers = right_answers(courier)
    first = now["questions"][0]["id"]
    answers[first] = (answers[first] + 1) % 3
    failed = courier.post("/assessment", json={"answers": answers}).json()
    assert failed["score"] == 7 and failed["passed"] is False
    assert courier.post("/assessment", json={"answers": answers}).status_code == 409
    service.clock.advance(5.5)
    service.relogin(courier)
    passed = courier.post("/assessment", json={"answers": right_answers(courier)})
    assert passed.status_code == 200 and passed.json()["passed"] is True
