"""Onboarding a merchant: its shop and first account (an admin duty)."""

from __future__ import annotations

import strawberry

from pinzhi.schema.accounts import Account
from pinzhi.schema.base import UserError
from pinzhi.schema.catalog import Merchant


@strawberry.input
class OnboardMerchantInput:
    name: str = strawberry.field(description="The shop's name, 2–100 characters, unique.")
    description: str = ""
    deposit_required_minor: int = strawberry.field(
        default=0, description="The security deposit its agreement requires, CNY in fen."
    )
    email: str = strawberry.field(description="The login of the shop's first account.")
    password: str
    contact_name: str
    contact_phone: str


@strawberry.type
class OnboardMerchantPayload:
    merchant: Merchant | None = None
    account: Account | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
