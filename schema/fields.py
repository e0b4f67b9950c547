"""Wiring resolvers to root fields with the policy (auth/policy.py) that guards them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from pinzhi.auth.policy import ACTIONS, Action, Policy
from pinzhi.schema.permissions import permission_for

# The field metadata key under which a mutation names its action (tests/auth/test_policy.py).
ACTION = "pinzhi.action"


def _guards(policy: Policy | None) -> list[type]:
    return [] if policy is None or policy.public else [permission_for(policy)]


def _with_who(description: str | None, policy: Policy | None) -> str | None:
    """The description, ending with who may use the field, so that the exported schema
    documents the policy table."""
    if policy is None:
        return description
    who = f"Allowed: {policy.describe()}."
    return f"{description} {who}" if description else who


def field(
    resolver: Callable[..., Any],
    policy: Policy | None = None,
    *,
    description: str | None = None,
    graphql_type: Any = None,
) -> Any:
    """A query field; without a policy it is public (rows are still scoped). A resolver
    shared by several fields gets each one's type as ``graphql_type``."""
    return strawberry.field(
        resolver=resolver,
        permission_classes=_guards(policy),
        description=_with_who(description, policy),
        graphql_type=graphql_type,
    )


def mutation(
    resolver: Callable[..., Any], action: Action, *, description: str | None = None
) -> Any:
    """A mutation guarded by its action's entry in the policy table, the same one its
    service checks."""
    policy = ACTIONS[action]
    return strawberry.mutation(
        resolver=resolver,
        permission_classes=_guards(policy),
        description=_with_who(description, policy),
        metadata={ACTION: action},
    )


def subscription(
    resolver: Callable[..., Any], policy: Policy, *, description: str | None = None
) -> Any:
    """A subscription field, guarded as a query field is: by a policy, checked when the
    client subscribes (a refusal is the operation's ``error``, before any event)."""
    return strawberry.subscription(
        resolver=resolver,
        permission_classes=_guards(policy),
        description=_with_who(description, policy),
    )
