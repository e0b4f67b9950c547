"""The viewer: who is asking, derived from the bearer credential."""

from __future__ import annotations

from dataclasses import dataclass, field

from pinzhi.models.enums import ProviderKind, Role, StaffDuty


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


ANONYMOUS = Viewer()


def parse_duties(raw: str) -> frozenset[StaffDuty]:
    return frozenset(StaffDuty(d) for d in raw.split(",") if d)
