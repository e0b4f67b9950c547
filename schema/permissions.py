"""Field permissions read from the policy table (auth/policy.py): one permission class per
policy, checked once per field, never per object. Rows are filtered by ``auth/scopes.py``
and personal data masked by ``auth/masking.py``."""

from __future__ import annotations

from functools import cache
from typing import Any

from graphql import GraphQLError
from strawberry.permission import BasePermission
from strawberry.types import Info

from pinzhi.auth.policy import Policy


def forbidden(message: str = "不允许此操作 / Not allowed") -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def unauthenticated() -> GraphQLError:
    return GraphQLError(
        "需要登录 / Authentication required", extensions={"code": "UNAUTHENTICATED"}
    )


class PolicyPermission(BasePermission):
    """Admits the viewers its policy allows. The instance is shared by every request, so
    it keeps no state: an anonymous viewer is refused here (UNAUTHENTICATED), a signed-in
    one by ``on_unauthorized`` (FORBIDDEN)."""

    policy: Policy

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if self.policy.allows(viewer):
            return True
        if not viewer.is_authenticated:
            raise unauthenticated()
        return False

    def on_unauthorized(self) -> None:
        raise forbidden()


@cache
def permission_for(policy: Policy) -> type[BasePermission]:
    roles = "".join(sorted(r.title().replace("_", "") for r in policy.roles))
    return type(f"Allow{roles}", (PolicyPermission,), {"policy": policy})
