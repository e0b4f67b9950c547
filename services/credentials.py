"""Credentials as traced key nodes (QS 9.1.2): logging out, a replayed refresh token that
revokes its login, API keys issued and revoked, accounts deactivated and reactivated.

The mechanics live in ``auth/`` (tokens, API keys); this module adds the rules around them
and the trail: who ended which credential, when.
"""

from __future__ import annotations

from aiocache.base import BaseCache
from tortoise.transactions import in_transaction

from pinzhi.auth import standing, tokens
from pinzhi.auth.api_keys import create_api_key, revoke_api_key
from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Account, ApiKey
from pinzhi.services import audit, validation


async def log_out(viewer: Viewer, refresh_token: str) -> None:
    """Revoke the login the refresh token belongs to (the viewer's own, if signed in)."""
    async with in_transaction():
        account_id = await tokens.revoke_refresh_family(refresh_token, viewer.account_id)
        if account_id is None:
            raise ServiceError(ErrorCode.INVALID_TOKEN, ("refreshToken",))
        await _append_to_account(account_id, "logged_out", viewer, {})


async def refresh(refresh_token: str) -> tokens.TokenPair:
    """Rotate a refresh token; a replayed one revokes its whole login, which is traced."""
    try:
        return await tokens.rotate_refresh_token(refresh_token)
    except tokens.TokenReplayed as replay:
        async with in_transaction():
            await _append_to_account(
                replay.account_id, "login_revoked", None, {"reason": "refresh token replayed"}
            )
        raise


async def _append_to_account(
    account_id: int, action: str, actor: Viewer | None, data: dict[str, object]
) -> None:
    """Append to the account's trail under its row lock, as every writer of it does: two
    logouts (or a logout and a deactivation) at once never take the same place in it."""
    await Account.filter(id=account_id).select_for_update().first()
    await audit.append("Account", account_id, action, actor=actor, data=data)


async def issue_api_key(viewer: Viewer, label: str) -> tuple[ApiKey, str]:
    """A new API key for the viewer's provider account; the full key is returned once."""
    require(viewer, Action.CREATE_API_KEY)
    if viewer.account_id is None or viewer.provider_id is None:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE)
    # Keys are issued to the provider's people, logged in: a key cannot mint more keys, or
    # revoking a leaked one would not end the access it gave.
    if viewer.credential != "jwt":
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, (), "log in to issue a key")
    clean = validation.text(label, "label", min_len=0, max_len=100)
    account = await Account.get(id=viewer.account_id)
    async with in_transaction():
        row, secret = await create_api_key(account, clean)
        await audit.append(
            "ApiKey",
            row.id,
            "issued",
            actor=viewer,
            new=True,
            data={"provider_id": row.provider_id, "label": clean, "prefix": row.prefix},
        )
    return row, secret


async def withdraw_api_key(viewer: Viewer, key_id: int | None) -> None:
    """Revoke one of the viewer's provider's keys, at once."""
    require(viewer, Action.REVOKE_API_KEY)
    async with in_transaction():
        if key_id is None or not await revoke_api_key(key_id, viewer.provider_id or 0):
            raise ServiceError(ErrorCode.NOT_FOUND, ("apiKeyId",))
        await audit.append("ApiKey", key_id, "revoked", actor=viewer, data={})


async def set_active(
    viewer: Viewer, account_id: int | None, active: bool, reason: str, cache: BaseCache
) -> Account:
    """Staff with the admin duty deactivate (or reactivate) an account. A deactivated
    account's access tokens stop working at once: its standing is written to the shared
    cache every worker reads on each request (auth/standing.py); its refresh tokens are
    revoked, and its API keys refused (they are checked against the account each time)."""
    require(viewer, Action.SET_ACCOUNT_ACTIVE)
    why = validation.text(reason, "reason", min_len=2, max_len=500, multiline=True)
    if account_id is not None and account_id == viewer.account_id and not active:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("accountId",), "not your own account")
    async with in_transaction():
        account = (
            None
            if account_id is None
            else await Account.filter(id=account_id).select_for_update().first()
        )
        if account is None:
            raise ServiceError(ErrorCode.NOT_FOUND, ("accountId",))
        if account.is_active == active:
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("accountId",), "already so")
        await Account.filter(id=account.id).update(is_active=active)
        account.is_active = active
        revoked = 0 if active else await tokens.revoke_all(account.id)
        await audit.append(
            "Account",
            account.id,
            "reactivated" if active else "deactivated",
            actor=viewer,
            data={"reason": why, "refresh_tokens_revoked": revoked},
        )
    await standing.remember(cache, account.id, active)
    return account
