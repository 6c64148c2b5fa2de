"""The onboarding tutorial and assessment, read from TOML (bundled, or
``CROWDSHIP_ASSESSMENT_FILE``).

Each attempt is a paper drawn from the question bank: at least one question per topic, the
rest at random, questions and options shuffled. The paper is a pure function of a secret
seed (the service's key, the courier, the attempt number), so the courier sees the same
paper however often they look, each attempt differs, and nobody can predict one."""

from __future__ import annotations

import hashlib
import hmac
import random
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUNDLED = Path(__file__).with_name("assessment.toml")


class AssessmentError(ValueError):
    """The assessment file or a policy is unusable (names the file or field and the problem)."""


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    text: str
    options: tuple[str, ...]
    answer: int  # index into ``options`` as written in the bank


@dataclass(frozen=True)
class Section:
    title: str
    text: str


@dataclass(frozen=True)
class Policy:
    """What the operator sets: how many questions a paper has, how many must be right, and
    how long to wait after a failure."""

    pass_mark: int
    questions_per_attempt: int
    retry_after_min: float

    def check(self, bank_size: int) -> None:
        if not 1 <= self.questions_per_attempt <= bank_size:
            raise AssessmentError(
                f"questions_per_attempt: {self.questions_per_attempt} is not between 1 and the "
                f"{bank_size} questions of the bank"
            )
        if not 1 <= self.pass_mark <= self.questions_per_attempt:
            raise AssessmentError(
                f"pass_mark: {self.pass_mark} is not between 1 and questions_per_attempt "
                f"{self.questions_per_attempt}"
            )
        if self.retry_after_min < 0:
            raise AssessmentError(f"retry_after_min: {self.retry_after_min} is negative")


@dataclass(frozen=True)
class PaperQuestion:
    question: Question
    order: tuple[int, ...]  # the bank's option indices in the order shown

    @property
    def options(self) -> list[str]:
        return [self.question.options[i] for i in self.order]

    @property
    def right(self) -> int:
        """The index of the right option as shown."""
        return self.order.index(self.question.answer)


@dataclass(frozen=True)
class Paper:
    questions: tuple[PaperQuestion, ...]

    def score(self, answers: dict[str, int]) -> int:
        return sum(1 for q in self.questions if answers.get(q.question.id) == q.right)


@dataclass(frozen=True)
class Assessment:
    tutorial: tuple[Section, ...]
    questions: tuple[Question, ...]  # the bank
    default_policy: Policy

    @property
    def topics(self) -> list[str]:
        return sorted({q.topic for q in self.questions})

    def draw(self, count: int, seed: bytes) -> Paper:
        """``count`` questions, one per topic first (as far as ``count`` allows), the rest at
        random; questions and options in a shuffled order."""
        rng = random.Random(int.from_bytes(seed, "big"))
        by_topic: dict[str, list[Question]] = {}
        for q in self.questions:
            by_topic.setdefault(q.topic, []).append(q)
        topics = self.topics
        rng.shuffle(topics)
        chosen = [rng.choice(by_topic[t]) for t in topics[:count]]
        rest = [q for q in self.questions if q not in chosen]
        chosen += rng.sample(rest, count - len(chosen))
        rng.shuffle(chosen)
        paper = []
        for q in chosen:
            order = list(range(len(q.options)))
            rng.shuffle(order)
            paper.append(PaperQuestion(q, tuple(order)))
        return Paper(tuple(paper))


def paper_seed(key: str, courier_id: int, attempt: int) -> bytes:
    """The secret seed of a courier's n-th paper (1-based)."""
    message = f"assessment:{courier_id}:{attempt}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).digest()


@lru_cache(maxsize=8)
def load(path: Path | None = None) -> Assessment:
    path = path or BUNDLED
    try:
        body = tomllib.loads(path.read_text())
        questions = tuple(
            Question(
                str(q["id"]),
                str(q.get("topic", "general")),
                str(q["text"]),
                tuple(map(str, q["options"])),
                int(q["answer"]),
            )
            for q in body["questions"]
        )
        tutorial = tuple(Section(str(s["title"]), str(s["text"])) for s in body.get("tutorial", []))
        policy = Policy(
            pass_mark=int(body["pass_mark"]),
            questions_per_attempt=int(body.get("questions_per_attempt", len(questions))),
            retry_after_min=float(body.get("retry_after_min", 0)),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise AssessmentError(f"assessment file {path}: {error}") from error
    if not questions:
        raise AssessmentError(f"assessment file {path}: no questions")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise AssessmentError(f"assessment file {path}: question ids repeat")
    for q in questions:
        if not 0 <= q.answer < len(q.options):
            raise AssessmentError(f"assessment file {path}: question {q.id}: no option {q.answer}")
    try:
        policy.check(len(questions))
    except AssessmentError as error:
        raise AssessmentError(f"assessment file {path}: {error}") from error
    return Assessment(tutorial, questions, policy)
