"""People and integrators: accounts, refresh tokens, service providers and their API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import ProviderKind, Role

if TYPE_CHECKING:
    from pinzhi.models.catalog import Merchant


class ServiceProvider(Model):
    """A logistics or payment company integrating with the platform."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    kind = fields.CharEnumField(ProviderKind, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "service_provider"


class Account(Model):
    id = fields.IntField(primary_key=True)
    # The login e-mail is personal data (QS 9.4.1): encrypted at rest, found at login by a
    # keyed hash of its normalised form (auth/crypto.py). Set for every account.
    email_enc = fields.TextField(default="", db_default="")
    email_hash = fields.CharField(max_length=64, unique=True, null=True)
    password_hash = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=20)
    # Comma-separated StaffDuty values; empty for other roles.
    duties = fields.CharField(max_length=100, default="")
    merchant: fields.ForeignKeyNullableRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="accounts", null=True, on_delete=fields.RESTRICT
    )
    merchant_id: int | None
    provider: fields.ForeignKeyNullableRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="accounts", null=True, on_delete=fields.RESTRICT
    )
    provider_id: int | None
    # PII, encrypted at rest (auth/crypto.py).
    name_enc = fields.TextField(default="")
    phone_enc = fields.TextField(default="")
    is_active = fields.BooleanField(default=True)
    # QS 9.2.1, 9.6: a consumer who asked for accessible service is served first.
    accessibility_profile = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account"


class RefreshToken(Model):
    """A rotating refresh token. Tokens of one login share a family, and reuse revokes it."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="refresh_tokens"
    )
    account_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    family = fields.CharField(max_length=32, db_index=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refresh_token"


class ApiKey(Model):
    """An API key of a service provider. Only a hash is kept, the key is shown once."""

    id = fields.IntField(primary_key=True)
    provider: fields.ForeignKeyRelation[ServiceProvider] = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="api_keys"
    )
    provider_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="api_keys"
    )
    account_id: int
    label = fields.CharField(max_length=100, default="")
    prefix = fields.CharField(max_length=16, unique=True)
    key_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
