"""Service-provider API keys: shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from pinzhi.auth.tokens import InvalidCredential
from pinzhi.auth.viewer import Viewer
from pinzhi.models import Account, ApiKey, Role, ServiceProvider

KEY_PREFIX = "pzk_"
HEX = frozenset("0123456789abcdef")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


async def create_api_key(account: Account, label: str = "") -> tuple[ApiKey, str]:
    """Return the stored key row and the full key, which is never retrievable again."""
    if account.role != Role.SERVICE_PROVIDER or account.provider_id is None:
        raise ValueError("API keys belong to service-provider accounts")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return await store_api_key(account, prefix, secret, label), f"{KEY_PREFIX}{prefix}_{secret}"


async def store_api_key(account: Account, prefix: str, secret: str, label: str) -> ApiKey:
    """Keep only the hash of ``secret``; the caller shows the full key once."""
    return await ApiKey.create(
        provider_id=account.provider_id,
        account_id=account.id,
        label=label,
        prefix=prefix,
        key_hash=_hash(secret),
    )


async def revoke_api_key(key_id: int, provider_id: int) -> bool:
    updated = await ApiKey.filter(id=key_id, provider_id=provider_id, revoked_at=None).update(
        revoked_at=datetime.now(UTC)
    )
    return updated == 1


async def viewer_from_api_key(credential: str) -> Viewer:
    body = credential.removeprefix(KEY_PREFIX)
    prefix, sep, secret = body.partition("_")
    # Keys are issued with a 12-hex-digit prefix: anything else was never one of ours.
    if not sep or not secret or len(prefix) != 12 or not all(c in HEX for c in prefix):
        raise InvalidCredential("malformed API key")
    row = await ApiKey.get_or_none(prefix=prefix).select_related("provider", "account")
    if row is None or not hmac.compare_digest(row.key_hash, _hash(secret)):
        raise InvalidCredential("unknown API key")
    if row.revoked_at is not None or not row.account.is_active:
        raise InvalidCredential("revoked API key")
    provider: ServiceProvider = row.provider
    return Viewer(
        role=Role.SERVICE_PROVIDER,
        account_id=row.account_id,
        provider_id=provider.id,
        provider_kind=provider.kind,
        credential="api_key",
    )
