"""Intent recognition for customer-service messages (QS 9.7.1).

``classify(text)`` names what a customer's message in Chinese or English is about (one of
``Intent``) with a confidence, the predicted intent's probability. It never fails: an empty,
blank, emoji-only, very long or binary message gets an answer too, with a low confidence
when there is nothing to read (only the first ``MAX_CHARS`` characters are read).

There is no OTHER intent: whoever calls decides what a low confidence means. The chat's is
the published rule ``customer_service.chat``'s ``ai_min_confidence`` (QS 9.7.2: below it the
AI hands over to a person). Measured on the held-out split, 84% of messages score at least
0.5 and 97% of those are right; at least 0.55, 82% and 98%.

``classify_message(text)`` is the checked entry for requests: blank or longer than
``MAX_MESSAGE_CHARS`` is INVALID_INPUT, as are control characters other than line breaks
and tabs. The model, the corpus and the figures: ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinzhi.models.enums import Intent
from pinzhi.services import validation
from pinzhi.services.intents import model
from pinzhi.services.intents.text import MAX_CHARS, Language, language_of

__all__ = [
    "MAX_CHARS",
    "MAX_MESSAGE_CHARS",
    "Alternative",
    "Classification",
    "Intent",
    "Language",
    "classify",
    "classify_message",
]

# A message a request may send; the recogniser reads as much (text.MAX_CHARS).
MAX_MESSAGE_CHARS = MAX_CHARS
# The runners-up reported beside the intent.
ALTERNATIVES = 2


@dataclass(frozen=True)
class Alternative:
    intent: Intent
    confidence: float


@dataclass(frozen=True)
class Classification:
    """The intent read, its probability, the message's language, and the next most likely
    intents (``alternatives``, most likely first)."""

    intent: Intent
    confidence: float
    language: Language
    alternatives: tuple[Alternative, ...] = ()


def classify(text: str) -> Classification:
    """The intent of a customer's message, never an error (see the module's notes)."""
    head = text[:MAX_CHARS] if isinstance(text, str) else ""
    fitted = model.get("all")
    row = fitted.probabilities([head])[0]
    ranked = sorted(range(len(fitted.intents)), key=lambda i: (-float(row[i]), i))
    best, *rest = ranked
    return Classification(
        intent=fitted.intents[best],
        confidence=float(row[best]),
        language=language_of(head),
        alternatives=tuple(
            Alternative(fitted.intents[i], float(row[i])) for i in rest[:ALTERNATIVES]
        ),
    )


def classify_message(text: str | None) -> Classification:
    """``classify`` of a request's message, checked first: 1–``MAX_MESSAGE_CHARS``
    characters after trimming, no control characters but line breaks and tabs."""
    checked = validation.text(text, "text", max_len=MAX_MESSAGE_CHARS, multiline=True)
    return classify(checked)
