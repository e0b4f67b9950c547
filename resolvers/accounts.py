"""Registration, login, tokens, API keys and the viewer."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import throttle
from pinzhi.auth.api_keys import create_api_key, revoke_api_key
from pinzhi.auth.tokens import issue_token_pair, revoke_refresh_family, rotate_refresh_token
from pinzhi.resolvers.common import attempt
from pinzhi.schema.accounts import (
    Account,
    ApiKey,
    AuthPayload,
    CreateApiKeyPayload,
    LogoutPayload,
    RegisterPayload,
    RevokeApiKeyPayload,
)
from pinzhi.schema.base import UserError, pk_of
from pinzhi.schema.inputs import LoginInput, RegisterConsumerInput
from pinzhi.services import accounts
from pinzhi.services.errors import ErrorCode, ServiceError


async def _account(info: Info, row: models.Account) -> Account:
    return Account.from_row(row)


async def me(info: Info) -> Account | None:
    viewer = info.context.viewer
    if viewer.account_id is None:
        return None
    row = await info.context.loaders.account_by_id.load(viewer.account_id)
    return await _account(info, row) if row else None


async def register_consumer(info: Info, input: RegisterConsumerInput) -> RegisterPayload:
    row, errors = await attempt(
        info, accounts.register_consumer(input.email, input.password, input.name, input.phone)
    )
    if row is None:
        return RegisterPayload(errors=errors)
    # The new account is not the viewer yet; its owner sees it whole once logged in.
    return RegisterPayload(account=await _account(info, row))


def _throttled(error: throttle.Throttled) -> GraphQLError:
    return GraphQLError(
        f"尝试过于频繁，请 {error.retry_after} 秒后再试 / "
        f"Too many attempts, retry in {error.retry_after} s",
        extensions={"code": "THROTTLED", "retryAfter": error.retry_after},
    )


async def login(info: Info, input: LoginInput) -> AuthPayload:
    cache, client = info.context.cache, info.context.client_address
    try:
        reservation = await throttle.reserve(cache, input.email, client)
    except throttle.Throttled as error:
        raise _throttled(error) from None
    row, errors = await attempt(info, accounts.authenticate(input.email, input.password))
    if row is None:
        await throttle.record_failure(cache, reservation)
        return AuthPayload(errors=errors)
    await throttle.record_success(cache, reservation, input.email)
    pair = await issue_token_pair(row)
    return AuthPayload(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        access_token_expires_at=pair.expires_at,
    )


async def refresh_access_token(info: Info, refresh_token: str) -> AuthPayload:
    pair, errors = await attempt(info, rotate_refresh_token(refresh_token))
    if pair is None:
        return AuthPayload(errors=errors)
    return AuthPayload(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        access_token_expires_at=pair.expires_at,
    )


async def logout(info: Info, refresh_token: str) -> LogoutPayload:
    revoked = await revoke_refresh_family(refresh_token, info.context.viewer.account_id)
    if not revoked:
        error = ServiceError(ErrorCode.INVALID_TOKEN, ("refreshToken",))
        return LogoutPayload(errors=[UserError.of(error, info.context.language)])
    return LogoutPayload(revoked=True)


async def api_keys(info: Info) -> list[ApiKey]:
    viewer = info.context.viewer
    rows = await models.ApiKey.filter(provider_id=viewer.provider_id).order_by("-id")
    return [ApiKey.from_row(r) for r in rows]


async def create_key(info: Info, label: str = "") -> CreateApiKeyPayload:
    viewer = info.context.viewer
    account = await models.Account.get(id=viewer.account_id)
    row, secret = await create_api_key(account, label.strip()[:100])
    return CreateApiKeyPayload(api_key=ApiKey.from_row(row), secret=secret)


async def revoke_key(info: Info, api_key_id: strawberry.ID) -> RevokeApiKeyPayload:
    viewer = info.context.viewer
    pk = pk_of(api_key_id, "ApiKey") or 0
    if not await revoke_api_key(pk, viewer.provider_id or 0):
        error = ServiceError(ErrorCode.NOT_FOUND, ("apiKeyId",))
        return RevokeApiKeyPayload(errors=[UserError.of(error, info.context.language)])
    return RevokeApiKeyPayload(revoked=True)
