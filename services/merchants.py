"""Bringing a merchant onto the platform: its shop and its first login (QS 6.1).

Staff with the admin duty open the shop with the deposit its agreement requires (QS 6.1.1
credit) and the account its people log in with; both are traced key nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Account, Merchant, Role
from pinzhi.services import accounts, audit, validation
from pinzhi.services.qualifications import MAX_DEPOSIT_MINOR


@dataclass(frozen=True)
class Onboarded:
    merchant: Merchant
    account: Account


async def onboard_merchant(
    viewer: Viewer,
    *,
    name: str,
    description: str,
    deposit_required_minor: int,
    email: str,
    password: str,
    contact_name: str,
    contact_phone: str,
) -> Onboarded:
    require(viewer, Action.ONBOARD_MERCHANT)
    shop_name = validation.text(name, "name", min_len=2, max_len=100)
    about = validation.text(description, "description", min_len=0, max_len=2000, multiline=True)
    if not 0 <= deposit_required_minor <= MAX_DEPOSIT_MINOR:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("depositRequiredMinor",), "0 or more")
    person = validation.text(contact_name, "contactName", max_len=50)
    phone = validation.phone(contact_phone, "contactPhone")
    if await Merchant.filter(name=shop_name).exists():
        raise ServiceError(ErrorCode.NAME_TAKEN, ("name",))
    try:
        async with in_transaction():
            merchant = await Merchant.create(
                name=shop_name, description=about, deposit_required_minor=deposit_required_minor
            )
            account = await accounts.create_account(
                email,
                password,
                Role.MERCHANT,
                name=person,
                phone=phone,
                merchant_id=merchant.id,
                actor=viewer,
            )
            await audit.append(
                "Merchant",
                merchant.id,
                "onboarded",
                actor=viewer,
                new=True,
                data={"name": shop_name, "deposit_required_minor": deposit_required_minor},
            )
    except IntegrityError as exc:  # the same shop name opened twice at once
        raise ServiceError(ErrorCode.NAME_TAKEN, ("name",)) from exc
    return Onboarded(merchant, account)
