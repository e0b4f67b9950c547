"""Accounts, tokens and API keys."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.masking import Disclosure
from pinzhi.schema.base import Node, UserError, to_global_id
from pinzhi.schema.catalog import Merchant, ServiceProvider
from pinzhi.schema.enums import Role, StaffDuty


@strawberry.type(description="A person or integrator account.")
class Account(Node):
    email: str
    role: Role
    duties: list[StaffDuty]
    name: str
    phone: str
    created_at: datetime
    merchant_pk: strawberry.Private[int | None]
    provider_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Account, disclosure: Disclosure) -> Account:
        name, phone, _ = disclosure.contact(
            entity_type="Account",
            entity_id=row.id,
            owner_id=row.id,
            name_enc=row.name_enc,
            phone_enc=row.phone_enc,
        )
        return cls(
            id=to_global_id("Account", row.id),
            email=row.email,
            role=row.role,
            duties=[models.StaffDuty(d) for d in row.duties.split(",") if d],
            name=name,
            phone=phone,
            created_at=row.created_at,
            merchant_pk=row.merchant_id,
            provider_pk=row.provider_id,
        )

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
