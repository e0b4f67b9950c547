"""The viewer: who is asking, derived from the bearer credential."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pinzhi.models.enums import ProviderKind, Role, StaffDuty

if TYPE_CHECKING:
    from pinzhi.models import Account


@dataclass(frozen=True)
class Viewer:
    role: Role | None = None
    account_id: int | None = None
    merchant_id: int | None = None
    provider_id: int | None = None
    provider_kind: ProviderKind | None = None
    duties: frozenset[StaffDuty] = field(default_factory=frozenset)
    # "jwt" for people, "api_key" for service providers, "" when anonymous.
    credential: str = ""

    @property
    def is_authenticated(self) -> bool:
        return self.role is not None

    def has_duty(self, duty: StaffDuty) -> bool:
        return self.role == Role.STAFF and duty in self.duties

    @property
    def is_logistics(self) -> bool:
        return self.role == Role.SERVICE_PROVIDER and self.provider_kind == ProviderKind.LOGISTICS

    @property
    def is_payment(self) -> bool:
        return self.role == Role.SERVICE_PROVIDER and self.provider_kind == ProviderKind.PAYMENT

    @property
    def is_contact_centre(self) -> bool:
        return (
            self.role == Role.SERVICE_PROVIDER and self.provider_kind == ProviderKind.CONTACT_CENTRE
        )


ANONYMOUS = Viewer()


def viewer_of(
    account: Account, provider_kind: ProviderKind | None = None, credential: str = "internal"
) -> Viewer:
    """The viewer an account acts as, for work done on its behalf outside a request
    (jobs, the demo seed, tests)."""
    return Viewer(
        role=account.role,
        account_id=account.id,
        merchant_id=account.merchant_id,
        provider_id=account.provider_id,
        provider_kind=provider_kind,
        duties=parse_duties(account.duties),
        credential=credential,
    )


def parse_duties(raw: str) -> frozenset[StaffDuty]:
    return frozenset(StaffDuty(d) for d in raw.split(",") if d)
