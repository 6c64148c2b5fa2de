"""The onboarding assessment, read from TOML (bundled, or ``CROWDSHIP_ASSESSMENT_FILE``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUNDLED = Path(__file__).with_name("assessment.toml")


class AssessmentError(ValueError):
    """The assessment file is unusable (names the file and the problem)."""


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: tuple[str, ...]
    answer: int


@dataclass(frozen=True)
class Assessment:
    questions: tuple[Question, ...]
    pass_mark: int
    retry_after_min: float

    def score(self, answers: dict[str, int]) -> int:
        return sum(1 for q in self.questions if answers.get(q.id) == q.answer)


@lru_cache(maxsize=8)
def load(path: Path | None = None) -> Assessment:
    path = path or BUNDLED
    try:
        body = tomllib.loads(path.read_text())
        questions = tuple(
            Question(str(q["id"]), str(q["text"]), tuple(map(str, q["options"])), int(q["answer"]))
            for q in body["questions"]
        )
        pass_mark = int(body["pass_mark"])
        retry = float(body.get("retry_after_min", 0))
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
    if not 1 <= pass_mark <= len(questions):
        raise AssessmentError(
            f"assessment file {path}: pass_mark {pass_mark} is not between 1 and {len(questions)}"
        )
    return Assessment(questions, pass_mark, retry)
