"""How well the recogniser reads labelled messages (QS 9.7.1: measured on a labelled set).

``held_out()`` scores the shipped corpus's held-out split with the model that never saw it
(trained on the rest); ``score(examples)`` scores any labelled messages with the model the
service answers with (trained on the whole corpus).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pinzhi.models.enums import Intent
from pinzhi.services.intents import corpus, model
from pinzhi.services.intents.corpus import Example
from pinzhi.services.intents.text import Language


@dataclass(frozen=True)
class IntentScore:
    """One intent: how many messages were labelled with it (``support``), how many were
    read as it (``predicted``), and how many of those agree (``correct``)."""

    intent: Intent
    support: int
    predicted: int
    correct: int

    @property
    def recall(self) -> float | None:
        return self.correct / self.support if self.support else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None


@dataclass(frozen=True)
class Confusion:
    """``count`` messages labelled ``expected`` were read as ``predicted``."""

    expected: Intent
    predicted: Intent
    count: int


@dataclass(frozen=True)
class Evaluation:
    count: int
    correct: int
    intents: tuple[IntentScore, ...]
    # Every mistake, by pair, most frequent first.
    confusions: tuple[Confusion, ...]
    # Per language: (messages, read right).
    languages: tuple[tuple[Language, int, int], ...]
    # How many messages the scoring model was trained on.
    trained_on: int
    # The mean confidence of the right answers and of the wrong ones.
    mean_confidence_right: float | None
    mean_confidence_wrong: float | None

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else 0.0


def _evaluate(examples: Sequence[Example], fitted: model.Model) -> Evaluation:
    rows = fitted.probabilities([e.text for e in examples])
    predicted = [fitted.intents[int(i)] for i in rows.argmax(axis=1)]
    confidences = [float(c) for c in rows.max(axis=1)]
    right = [p == e.intent for p, e in zip(predicted, examples, strict=True)]
    support = Counter(e.intent for e in examples)
    guessed = Counter(predicted)
    agreed = Counter(p for p, ok in zip(predicted, right, strict=True) if ok)
    mistakes = Counter(
        (e.intent, p) for p, e, ok in zip(predicted, examples, right, strict=True) if not ok
    )
    languages = tuple(
        (
            language,
            sum(1 for e in examples if e.language == language),
            sum(1 for e, ok in zip(examples, right, strict=True) if ok and e.language == language),
        )
        for language in corpus.LANGUAGES
        if any(e.language == language for e in examples)
    )
    right_confidences = [c for c, ok in zip(confidences, right, strict=True) if ok]
    wrong_confidences = [c for c, ok in zip(confidences, right, strict=True) if not ok]
    return Evaluation(
        count=len(examples),
        correct=sum(right),
        intents=tuple(
            IntentScore(intent, support[intent], guessed[intent], agreed[intent])
            for intent in Intent
            if support[intent] or guessed[intent]
        ),
        confusions=tuple(
            Confusion(expected, got, n)
            for (expected, got), n in sorted(
                mistakes.items(), key=lambda item: (-item[1], item[0][0], item[0][1])
            )
        ),
        languages=languages,
        trained_on=fitted.trained_on,
        mean_confidence_right=_mean(right_confidences),
        mean_confidence_wrong=_mean(wrong_confidences),
    )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def held_out() -> Evaluation:
    """The shipped corpus's held-out split, read by the model trained on the rest only."""
    return _evaluate(corpus.split(corpus.shipped())[1], model.get("training"))


def score(examples: Sequence[Example]) -> Evaluation:
    """Any labelled messages, read by the model the service answers with."""
    return _evaluate(examples, model.get("all"))
