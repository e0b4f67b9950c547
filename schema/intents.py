"""What the intent recogniser reads in a customer's message (QS 9.7.1)."""

from __future__ import annotations

import strawberry

from pinzhi.schema.enums import Intent
from pinzhi.services import intents


@strawberry.type(description="A runner-up intent and its probability.")
class IntentAlternative:
    intent: Intent
    confidence: float


@strawberry.type(
    description="The intent read in a customer's message (QS 9.7.1), with its probability "
    "(0–1) and the message's language. How sure is sure enough is the caller's: the chat "
    "hands over to a person below the customer_service.chat rule's ai_min_confidence "
    "(QS 9.7.2)."
)
class MessageClassification:
    intent: Intent
    confidence: float = strawberry.field(description="The intent's probability, 0–1.")
    language: str = strawberry.field(description="`zh` or `en`: what the message is mostly in.")
    alternatives: list[IntentAlternative] = strawberry.field(
        description="The next most likely intents, most likely first."
    )

    @classmethod
    def of(cls, result: intents.Classification) -> MessageClassification:
        return cls(
            intent=result.intent,
            confidence=result.confidence,
            language=result.language,
            alternatives=[
                IntentAlternative(intent=a.intent, confidence=a.confidence)
                for a in result.alternatives
            ],
        )
