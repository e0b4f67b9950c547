"""Accounts: registration, login and the PII they hold."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.crypto import decrypt, email_lookup, encrypt
from pinzhi.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Account, Role
from pinzhi.services import audit, state, validation

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def email_of(account: Account) -> str:
    """The account's login e-mail, decrypted (QS 9.4.1: who may see it is masking's call)."""
    return decrypt(account.email_enc)


async def find_by_email(email: str, **filters: Any) -> Account | None:
    return await Account.get_or_none(email_hash=email_lookup(normalise_email(email)), **filters)


async def create_account(
    email: str,
    password: str,
    role: Role,
    *,
    name: str = "",
    phone: str = "",
    duties: str = "",
    merchant_id: int | None = None,
    provider_id: int | None = None,
    actor: Viewer | None = None,
) -> Account:
    """A new account, traced on its own chain (QS 9.1.2: a new party). ``actor`` is who
    opened it: staff for merchants and providers, None when people register themselves."""
    email = normalise_email(email)
    if not EMAIL.fullmatch(email) or len(email) > 254 or not email.isprintable():
        raise ServiceError(ErrorCode.INVALID_INPUT, ("email",), "not an email address")
    if len(password or "") < MIN_PASSWORD_LENGTH or len(password) > 200:
        raise ServiceError(ErrorCode.WEAK_PASSWORD, ("password",))
    if role == Role.MERCHANT and merchant_id is None:
        raise ValueError("a merchant account is bound to a merchant")
    if role == Role.SERVICE_PROVIDER and provider_id is None:
        raise ValueError("a service-provider account is bound to a provider")
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        async with in_transaction():
            account = await state.create(
                Account,
                actor=actor,
                action="created",
                data={
                    "role": str(role),
                    "duties": duties,
                    "merchant_id": merchant_id,
                    "provider_id": provider_id,
                },
                email_enc=encrypt(email),
                email_hash=email_lookup(email),
                password_hash=password_hash,
                role=role,
                duties=duties,
                merchant_id=merchant_id,
                provider_id=provider_id,
                name_enc=encrypt(name),
                phone_enc=encrypt(phone),
            )
    except IntegrityError as exc:
        raise ServiceError(ErrorCode.EMAIL_TAKEN, ("email",)) from exc
    return account


async def register_consumer(email: str, password: str, name: str, phone: str) -> Account:
    name = validation.text(name, "name", max_len=50)
    phone = validation.phone(phone, "phone")
    if await find_by_email(email) is not None:
        raise ServiceError(ErrorCode.EMAIL_TAKEN, ("email",))
    return await create_account(email, password, Role.CONSUMER, name=name, phone=phone)


async def authenticate(email: str, password: str) -> Account:
    account = await find_by_email(email, is_active=True)
    # Argon2 is deliberately slow: verify off the event loop so other requests go on.
    known = account.password_hash if account else None
    if not await asyncio.to_thread(verify_password, known, password or ""):
        raise ServiceError(ErrorCode.INVALID_CREDENTIALS, ("password",))
    assert account is not None
    return account


async def set_accessibility_profile(viewer: Viewer, enabled: bool) -> Account:
    """QS 9.2.1, 9.6: a consumer asks to be served first as needing accessible service (or
    stops). Requests opened afterwards carry it into the after-sales queue's order; it is
    personal, so the queue shows only the priority it earns, never the flag."""
    require(viewer, Action.SET_ACCESSIBILITY_PROFILE)
    async with in_transaction():
        account = await Account.select_for_update().get(id=viewer.account_id)
        if account.accessibility_profile != enabled:
            await Account.filter(id=account.id).update(accessibility_profile=enabled)
            account.accessibility_profile = enabled
            await audit.append(
                "Account",
                account.id,
                "accessibility_profile_set",
                actor=viewer,
                data={"enabled": enabled},
            )
    return account
