"""Intent recognition for customer-service messages (QS 9.7.1)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from pinzhi.auth import policy
from pinzhi.errors import ServiceError
from pinzhi.schema.errors import BAD_USER_INPUT
from pinzhi.schema.fields import field
from pinzhi.schema.intents import MessageClassification
from pinzhi.services import intents


async def classify_message(
    info: Info,
    text: Annotated[
        str, strawberry.argument(description="The customer's message, 1–2000 characters.")
    ],
) -> MessageClassification:
    """The message's intent. The model is built on first use and reads in a worker thread,
    so the event loop never waits for it."""
    try:
        result = await asyncio.to_thread(intents.classify_message, text)
    except ServiceError as error:
        raise GraphQLError(
            error.message(info.context.language),
            extensions={
                "code": BAD_USER_INPUT,
                "reason": str(error.code),
                "field": list(error.field),
            },
        ) from None
    return MessageClassification.of(result)


@strawberry.type
class IntentQuery:
    classify_message = field(
        classify_message,
        policy.INTENT_CLASSIFIERS,
        description="Read a customer's message for its intent (QS 9.7.1), in Chinese or "
        "English, with its probability; for staff and for the service providers that "
        "integrate with customer service. A blank message, one over 2000 characters or one "
        "with control characters is BAD_USER_INPUT (reason INVALID_INPUT).",
    )
