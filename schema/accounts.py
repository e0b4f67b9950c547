"""Accounts, tokens and API keys."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.schema.base import Node, UserError, to_global_id
from pinzhi.schema.catalog import Merchant, ServiceProvider
from pinzhi.schema.enums import Role, StaffDuty

PERSONAL = (
    "Whole for the account itself and for customer service on its open case (logged); "
    "masked for others (QS 9.4.1)."
)


@strawberry.type(description="A person or integrator account.")
class Account(Node):
    role: Role
    duties: list[StaffDuty]
    created_at: datetime
    pk: strawberry.Private[int]
    row: strawberry.Private[models.Account]
    merchant_pk: strawberry.Private[int | None]
    provider_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Account) -> Account:
        return cls(
            id=to_global_id("Account", row.id),
            pk=row.id,
            row=row,
            role=row.role,
            duties=[models.StaffDuty(d) for d in row.duties.split(",") if d],
            created_at=row.created_at,
            merchant_pk=row.merchant_id,
            provider_pk=row.provider_id,
        )

    async def _personal(self, info: Info, name: str, enc: str) -> str:
        # Decrypted, masked and logged only when asked for, as an order's recipient is.
        disclosure = await info.context.prepare_disclosure()
        return disclosure.field(
            entity_type="Account", entity_id=self.pk, owner_id=self.pk, name=name, enc=enc
        )

    @strawberry.field(description=f"The login e-mail (c***@example.com masked). {PERSONAL}")
    async def email(self, info: Info) -> str:
        return await self._personal(info, "email", self.row.email_enc)

    @strawberry.field(description=PERSONAL)
    async def name(self, info: Info) -> str:
        return await self._personal(info, "name", self.row.name_enc)

    @strawberry.field(description=PERSONAL)
    async def phone(self, info: Info) -> str:
        return await self._personal(info, "phone", self.row.phone_enc)

    @strawberry.field(
        description="Whether the account asked for accessible service (QS 9.2.1); shown to "
        "its owner only, null to everyone else."
    )
    def accessibility_profile(self, info: Info) -> bool | None:
        if info.context.viewer.account_id != self.pk:
            return None
        return self.row.accessibility_profile

    @strawberry.field(description="The merchant a MERCHANT account acts for.")
    async def merchant(self, info: Info) -> Merchant | None:
        if self.merchant_pk is None:
            return None
        row = await info.context.loaders.merchant_by_id.load(self.merchant_pk)
        return Merchant.from_row(row) if row else None

    @strawberry.field(description="The provider a SERVICE_PROVIDER account acts for.")
    async def provider(self, info: Info) -> ServiceProvider | None:
        if self.provider_pk is None:
            return None
        row = await info.context.loaders.provider_by_id.load(self.provider_pk)
        return ServiceProvider.from_row(row) if row else None


@strawberry.input
class SetAccountActiveInput:
    account_id: strawberry.ID
    active: bool = strawberry.field(
        description="False ends every session and key at once; true lets it log in again."
    )
    reason: str = strawberry.field(description="Why, 2–500 characters; on the trail.")


@strawberry.type
class AccountPayload:
    account: Account | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AuthPayload:
    access_token: str | None = None
    refresh_token: str | None = None
    access_token_expires_at: datetime | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RegisterPayload:
    account: Account | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    revoked: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A service provider's API key; the secret is never shown again.")
class ApiKey(Node):
    label: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: models.ApiKey) -> ApiKey:
        return cls(
            id=to_global_id("ApiKey", row.id),
            label=row.label,
            prefix=row.prefix,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None = None
    secret: str | None = strawberry.field(
        default=None, description="The full key, shown this once. Send it as a bearer token."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokeApiKeyPayload:
    revoked: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)
