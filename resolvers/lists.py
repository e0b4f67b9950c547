"""The rows of a list, for every list root field: scope, filter, page."""

from __future__ import annotations

from typing import Any

from tortoise.models import Model

from pinzhi.auth.scopes import scope
from pinzhi.auth.viewer import Viewer
from pinzhi.resolvers.ids import pk_or_missing
from pinzhi.resolvers.pagination import Page, Window, page


async def scoped_page(
    viewer: Viewer, model: type[Model], window: Window, **filters: Any
) -> Page[Any]:
    """The window of ``model``'s rows in the viewer's scope (auth/scopes.py), with each
    filter that was given (``None`` means not given), newest first."""
    query = scope(viewer, model)
    given = {name: value for name, value in filters.items() if value is not None}
    if given:
        query = query.filter(**given)
    return await page(query, window)


def id_filter(global_id: str | None, type_name: str) -> int | None:
    """A filter on a related object's id: not given, or its pk (0 for a foreign id, which
    then matches nothing)."""
    return None if global_id is None else pk_or_missing(global_id, type_name)
