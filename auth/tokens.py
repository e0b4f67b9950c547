"""Access tokens (short-lived JWT) and rotating, revocable refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from tortoise.transactions import in_transaction

from pinzhi.auth.viewer import Viewer, parse_duties
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Account, RefreshToken, Role, ServiceProvider
from pinzhi.models.enums import ProviderKind
from pinzhi.settings import get_settings

ALGORITHM = "HS256"
ISSUER = "pinzhi"


class InvalidCredential(Exception):
    """A bearer credential that is malformed, expired, revoked or unknown."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def issue_access_token(
    account: Account, provider_kind: ProviderKind | None = None, *, now: datetime | None = None
) -> tuple[str, datetime]:
    now = now or _now()
    expires = now + timedelta(minutes=get_settings().access_token_minutes)
    claims = {
        "iss": ISSUER,
        "sub": str(account.id),
        "typ": "access",
        "role": str(account.role),
        "duties": account.duties,
        "mid": account.merchant_id,
        "pid": account.provider_id,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if provider_kind is not None:
        claims["pkind"] = str(provider_kind)
    return jwt.encode(claims, get_settings().token_secret, algorithm=ALGORITHM), expires


def viewer_from_access_token(token: str) -> Viewer:
    """The viewer a valid access token names, or InvalidCredential. A token this process
    has verified is not verified again until it expires: decoding and checking every
    request's token was a fifth of the cost of a small request. Only verified tokens are
    remembered, under the secret that verified them."""
    secret = get_settings().token_secret
    known = _verified.get((secret, token))
    if known is not None and time.time() < known[1]:
        return known[0]
    viewer, expires = _verify(token, secret)
    if len(_verified) >= VERIFIED_TOKENS_KEPT:
        _verified.clear()
    _verified[(secret, token)] = (viewer, expires)
    return viewer


VERIFIED_TOKENS_KEPT = 10_000
_verified: dict[tuple[str, str], tuple[Viewer, int]] = {}


def _verify(token: str, secret: str) -> tuple[Viewer, int]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidCredential(str(exc)) from exc
    if claims.get("typ") != "access":
        raise InvalidCredential("not an access token")
    try:
        role = Role(claims["role"])
        kind = claims.get("pkind")
        viewer = Viewer(
            role=role,
            account_id=int(claims["sub"]),
            merchant_id=claims.get("mid"),
            provider_id=claims.get("pid"),
            provider_kind=ProviderKind(kind) if kind else None,
            duties=parse_duties(claims.get("duties", "")),
            credential="jwt",
        )
        return viewer, int(claims["exp"])
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidCredential("malformed claims") from exc


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _new_refresh_token(account_id: int, family: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    await RefreshToken.create(
        account_id=account_id,
        token_hash=_hash(token),
        family=family,
        expires_at=now + timedelta(days=get_settings().refresh_token_days),
    )
    return token


async def issue_token_pair(account: Account) -> TokenPair:
    now = _now()
    access, expires = issue_access_token(account, await _provider_kind(account), now=now)
    refresh = await _new_refresh_token(account.id, uuid.uuid4().hex, now)
    return TokenPair(access, refresh, expires)


async def rotate_refresh_token(token: str) -> TokenPair:
    """Trade a refresh token for a new pair. A token is good once: presenting a used one
    means it was stolen or replayed, so the whole family (that login) is revoked."""
    now = _now()
    try:
        async with in_transaction():
            row = await RefreshToken.filter(token_hash=_hash(token)).select_for_update().first()
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                raise ServiceError(ErrorCode.INVALID_TOKEN, ("refreshToken",))
            if row.used_at is not None:
                raise _Replayed(row.family, row.account_id)
            account = await Account.get_or_none(id=row.account_id, is_active=True)
            if account is None:
                raise ServiceError(ErrorCode.INVALID_TOKEN, ("refreshToken",))
            claimed = await RefreshToken.filter(id=row.id, used_at=None).update(used_at=now)
            if claimed != 1:
                raise _Replayed(row.family, row.account_id)
            access, expires = issue_access_token(account, await _provider_kind(account), now=now)
            refresh = await _new_refresh_token(account.id, row.family, now)
    except _Replayed as replay:
        # Revoke after the refused transaction has rolled back, so that the revocation stays.
        await RefreshToken.filter(family=replay.family, revoked_at=None).update(revoked_at=now)
        raise TokenReplayed(replay.account_id) from None
    return TokenPair(access, refresh, expires)


class TokenReplayed(ServiceError):
    """A used refresh token was presented again: its login's tokens are all revoked now."""

    def __init__(self, account_id: int):
        super().__init__(ErrorCode.INVALID_TOKEN, ("refreshToken",), "reused")
        self.account_id = account_id


class _Replayed(Exception):
    def __init__(self, family: str, account_id: int):
        super().__init__(family)
        self.family = family
        self.account_id = account_id


async def revoke_refresh_family(token: str, account_id: int | None = None) -> int | None:
    """Revoke the login ``token`` belongs to; the account it belongs to, or None if it is
    unknown (or, given ``account_id``, someone else's)."""
    row = await RefreshToken.get_or_none(token_hash=_hash(token))
    if row is None or (account_id is not None and row.account_id != account_id):
        return None
    revoked = await RefreshToken.filter(family=row.family, revoked_at=None).update(
        revoked_at=_now()
    )
    # A login already ended (or a token long revoked) ends nothing more.
    return row.account_id if revoked else None


async def revoke_all(account_id: int) -> int:
    """Revoke every refresh token of an account (it was deactivated)."""
    return await RefreshToken.filter(account_id=account_id, revoked_at=None).update(
        revoked_at=_now()
    )


async def _provider_kind(account: Account) -> ProviderKind | None:
    """Service-provider tokens carry the provider's kind, so scoping needs no lookup."""
    if account.provider_id is None:
        return None
    provider = await ServiceProvider.get(id=account.provider_id)
    return provider.kind
