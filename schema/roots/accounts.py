"""Registration, login, tokens, API keys and the viewer."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy, throttle
from pinzhi.auth.policy import Action
from pinzhi.auth.tokens import issue_token_pair
from pinzhi.schema.accounts import (
    Account,
    AccountPayload,
    ApiKey,
    AuthPayload,
    CreateApiKeyPayload,
    LogoutPayload,
    RegisterPayload,
    RevokeApiKeyPayload,
    SetAccountActiveInput,
)
from pinzhi.schema.base import attempt, pk_of
from pinzhi.schema.fields import field, mutation
from pinzhi.schema.inputs import LoginInput, RegisterConsumerInput
from pinzhi.services import accounts, credentials


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
    pair, errors = await attempt(info, credentials.refresh(refresh_token))
    if pair is None:
        return AuthPayload(errors=errors)
    return AuthPayload(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        access_token_expires_at=pair.expires_at,
    )


async def logout(info: Info, refresh_token: str) -> LogoutPayload:
    _, errors = await attempt(info, credentials.log_out(info.context.viewer, refresh_token))
    return LogoutPayload(revoked=not errors, errors=errors)


async def api_keys(info: Info) -> list[ApiKey]:
    viewer = info.context.viewer
    rows = await models.ApiKey.filter(provider_id=viewer.provider_id).order_by("-id")
    return [ApiKey.from_row(r) for r in rows]


async def create_key(info: Info, label: str = "") -> CreateApiKeyPayload:
    issued, errors = await attempt(info, credentials.issue_api_key(info.context.viewer, label))
    if issued is None:
        return CreateApiKeyPayload(errors=errors)
    row, secret = issued
    return CreateApiKeyPayload(api_key=ApiKey.from_row(row), secret=secret)


async def revoke_key(info: Info, api_key_id: strawberry.ID) -> RevokeApiKeyPayload:
    _, errors = await attempt(
        info, credentials.withdraw_api_key(info.context.viewer, pk_of(api_key_id, "ApiKey"))
    )
    return RevokeApiKeyPayload(revoked=not errors, errors=errors)


async def set_account_active(info: Info, input: SetAccountActiveInput) -> AccountPayload:
    row, errors = await attempt(
        info,
        credentials.set_active(
            info.context.viewer,
            pk_of(input.account_id, "Account"),
            input.active,
            input.reason,
            info.context.cache,
        ),
    )
    return AccountPayload(account=Account.from_row(row) if row else None, errors=errors)


async def set_accessibility_profile(info: Info, enabled: bool) -> AccountPayload:
    row, errors = await attempt(
        info, accounts.set_accessibility_profile(info.context.viewer, enabled)
    )
    return AccountPayload(account=Account.from_row(row) if row else None, errors=errors)


@strawberry.type
class AccountQuery:
    me = field(me, description="The viewer's account; null when anonymous.")
    api_keys = field(api_keys, policy.PROVIDER)


@strawberry.type
class AccountMutation:
    register_consumer = mutation(register_consumer, Action.REGISTER_CONSUMER)
    login = mutation(login, Action.LOGIN)
    refresh_access_token = mutation(refresh_access_token, Action.REFRESH_ACCESS_TOKEN)
    logout = mutation(logout, Action.LOGOUT)
    create_api_key = mutation(create_key, Action.CREATE_API_KEY)
    revoke_api_key = mutation(revoke_key, Action.REVOKE_API_KEY)
    set_account_active = mutation(
        set_account_active,
        Action.SET_ACCOUNT_ACTIVE,
        description="Deactivate or reactivate an account (admin duty); takes effect at once.",
    )
    set_accessibility_profile = mutation(
        set_accessibility_profile,
        Action.SET_ACCESSIBILITY_PROFILE,
        description="Ask to be served first as needing accessible service (QS 9.2.1, 9.6).",
    )
