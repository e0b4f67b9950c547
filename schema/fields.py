"""Wiring resolvers to root fields with the static role sets that may use them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from pinzhi.auth import permissions as p
from pinzhi.models import Role, StaffDuty

READERS = p.allow(*Role)
PII_LOG_READERS = p.allow(Role.REGULATOR, Role.STAFF, duties=(StaffDuty.COMPLIANCE,))
AUDIT_VERIFIERS = p.allow(Role.REGULATOR, Role.STAFF, duties=(StaffDuty.COMPLIANCE,))
FEEDBACK_AUTHORS = p.allow(Role.CONSUMER, Role.MERCHANT, Role.SERVICE_PROVIDER)
# Staff cancel orders as customer service, on a consumer's behalf (QS 9.3.1).
ORDER_CANCELLERS = p.allow(
    Role.CONSUMER, Role.MERCHANT, Role.STAFF, duties=(StaffDuty.CUSTOMER_SERVICE,)
)
PAYMENT_PROVIDER = p.allow(Role.SERVICE_PROVIDER)
WARNING_HANDLERS = p.allow(Role.STAFF, duties=(StaffDuty.COMPLIANCE, StaffDuty.CUSTOMER_SERVICE))
RULE_ADMINS = p.allow(Role.STAFF, duties=(StaffDuty.ADMIN,))
COMPLIANCE_STAFF = p.allow(Role.STAFF, duties=(StaffDuty.COMPLIANCE,))
COURSE_ADMINS = p.allow(Role.STAFF, duties=(StaffDuty.ADMIN,))
ASSESSORS = p.allow(Role.STAFF, duties=(StaffDuty.ADMIN, StaffDuty.COMPLIANCE))
CERTIFICATE_RECORDERS = p.allow(Role.MERCHANT, Role.STAFF, duties=(StaffDuty.COMPLIANCE,))
GRADE_READERS = p.allow(Role.MERCHANT, Role.STAFF, Role.REGULATOR)


def field(resolver: Callable[..., Any], *permissions: type, description: str | None = None) -> Any:
    return strawberry.field(
        resolver=resolver, permission_classes=list(permissions), description=description
    )


def mutation(
    resolver: Callable[..., Any], *permissions: type, description: str | None = None
) -> Any:
    return strawberry.mutation(
        resolver=resolver, permission_classes=list(permissions), description=description
    )
