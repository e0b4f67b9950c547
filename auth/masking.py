"""Masking of personal information in one place (architecture decision 3, QS 9.4.1).

PII leaves the database encrypted. When a row becomes an object for a viewer, the functions
here decide, field by field, whether that viewer sees it whole or masked, and every whole
read by someone other than the owner is recorded for the access log that regulators query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

from pinzhi.auth.crypto import decrypt
from pinzhi.auth.viewer import Viewer
from pinzhi.models import Role, StaffDuty


def mask_name(name: str) -> str:
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    phone = phone.strip()
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


def mask_address(address: str) -> str:
    # Keeps the region (first six characters, e.g. 省+市) so that regional analysis works.
    if len(address) <= 6:
        return "*" * len(address)
    return address[:6] + "****"


def mask_email(email: str) -> str:
    """``c***@demo.pinzhi``: the first character and the domain, which says little of whom."""
    local, at, domain = email.partition("@")
    if not at:
        return "*" * len(email)
    return f"{local[:1]}***@{domain}"


MASKS = {"name": mask_name, "phone": mask_phone, "address": mask_address, "email": mask_email}


@dataclass(frozen=True)
class AccessRecord:
    subject_account_id: int
    entity_type: str
    entity_id: int
    fields_read: tuple[str, ...]


class _Holder(TypedDict):
    """Whose personal fields these are and through which entity they are read."""

    entity_type: str
    entity_id: int
    owner_id: int
    merchant_id: int | None
    logistics_provider_id: int | None


@dataclass
class Disclosure:
    """Per-request masking state: the viewer, the staff member's open cases, and the
    whole reads to log. One instance per request, flushed once at the end."""

    viewer: Viewer
    # Consumers whose open complaint this staff member handles (loaded once, on demand).
    case_consumer_ids: frozenset[int] | None = None
    records: list[AccessRecord] = field(default_factory=list)

    def _whole_fields(
        self, *, owner_id: int, merchant_id: int | None, logistics_provider_id: int | None
    ) -> frozenset[str]:
        v = self.viewer
        contact = frozenset({"name", "phone", "address"})
        if v.account_id is not None and v.account_id == owner_id:
            # The owner, whatever its role (e.g. a merchant or staff member reading `me`).
            return contact | {"email"}
        if v.has_duty(StaffDuty.CUSTOMER_SERVICE) and owner_id in (self.case_consumer_ids or ()):
            return contact | {"email"}
        if v.role == Role.MERCHANT and merchant_id is not None and v.merchant_id == merchant_id:
            # What it needs to ship: who and where. The phone goes to the carrier only.
            return frozenset({"name", "address"})
        if v.is_logistics and logistics_provider_id is not None:
            # Who, where and how to call at the door; never the e-mail.
            return contact if v.provider_id == logistics_provider_id else frozenset()
        return frozenset()

    def field(
        self,
        *,
        entity_type: str,
        entity_id: int,
        owner_id: int,
        name: str,
        enc: str,
        merchant_id: int | None = None,
        logistics_provider_id: int | None = None,
    ) -> str:
        """One personal field (``name``, ``phone``, ``address`` or ``email``) decrypted, whole
        or masked for this viewer; a whole read by someone other than the owner is logged.
        Called when the field is resolved, so only what a query asks for is read."""
        value = decrypt(enc)
        whole = self._whole_fields(
            owner_id=owner_id, merchant_id=merchant_id, logistics_provider_id=logistics_provider_id
        )
        if name not in whole:
            return MASKS[name](value)
        if self.viewer.account_id != owner_id:
            self.records.append(AccessRecord(owner_id, entity_type, entity_id, (name,)))
        return value

    def public_name(self, owner_id: int, name_enc: str) -> str:
        """A person's name beside what they published (a review): whole for the person,
        masked for everyone else, so no whole read by others happens (or needs logging)."""
        name = decrypt(name_enc)
        return name if self.viewer.account_id == owner_id else mask_name(name)

    # Staff posts and their qualification (QS 9.3.1, 9.3.3, 9.4.1)
    def staff_name(self, owner_id: int, name_enc: str) -> str:
        """A staff member's name in the staff records and performance reports: whole for
        the person and for admin staff, who manage posts (logged as a whole read); masked
        for everyone else, regulators included, who tell staff apart by their ids."""
        name = decrypt(name_enc)
        if self.viewer.account_id == owner_id:
            return name
        if self.viewer.has_duty(StaffDuty.ADMIN):
            self.records.append(AccessRecord(owner_id, "Account", owner_id, ("name",)))
            return name
        return mask_name(name)

    def needs_case_list(self) -> bool:
        return self.case_consumer_ids is None and self.viewer.has_duty(StaffDuty.CUSTOMER_SERVICE)

    def contact(
        self,
        *,
        entity_type: str,
        entity_id: int,
        owner_id: int,
        name_enc: str,
        phone_enc: str,
        address_enc: str = "",
        merchant_id: int | None = None,
        logistics_provider_id: int | None = None,
    ) -> tuple[str, str, str]:
        """Decrypt and mask a name, phone and address for this viewer (one access-log row
        for the entity, with the fields read whole)."""
        common: _Holder = {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "owner_id": owner_id,
            "merchant_id": merchant_id,
            "logistics_provider_id": logistics_provider_id,
        }
        return (
            self.field(name="name", enc=name_enc, **common),
            self.field(name="phone", enc=phone_enc, **common),
            self.field(name="address", enc=address_enc, **common),
        )
