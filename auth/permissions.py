"""Static field permissions (architecture decision 13): which roles may use a field.

The role set is declared on the field and checked once per field, never per object; rows
are filtered by ``auth/scopes.py`` and personal data masked by ``auth/masking.py``.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.permission import BasePermission
from strawberry.types import Info

from pinzhi.models import Role, StaffDuty


def forbidden(message: str = "不允许此操作 / Not allowed") -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def unauthenticated() -> GraphQLError:
    return GraphQLError(
        "需要登录 / Authentication required", extensions={"code": "UNAUTHENTICATED"}
    )


class _RolePermission(BasePermission):
    roles: frozenset[Role] = frozenset()
    duties: frozenset[StaffDuty] = frozenset()

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        self._authenticated = viewer.is_authenticated
        if not viewer.is_authenticated:
            return False
        if viewer.role not in self.roles:
            return False
        if viewer.role == Role.STAFF and self.duties:
            return bool(self.duties & viewer.duties)
        return True

    def on_unauthorized(self) -> None:
        raise forbidden() if self._authenticated else unauthenticated()


def allow(*roles: Role, duties: tuple[StaffDuty, ...] = ()) -> type[BasePermission]:
    """A permission class for the given roles (and, for staff, any of the given duties)."""
    name = "Allow" + "".join(r.title().replace("_", "") for r in roles)
    return type(name, (_RolePermission,), {"roles": frozenset(roles), "duties": frozenset(duties)})


AUTHENTICATED = allow(*Role)
CONSUMER = allow(Role.CONSUMER)
MERCHANT = allow(Role.MERCHANT)
PROVIDER = allow(Role.SERVICE_PROVIDER)
CUSTOMER_SERVICE = allow(Role.STAFF, duties=(StaffDuty.CUSTOMER_SERVICE,))
