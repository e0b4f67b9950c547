"""Server variants the harness can measure against the default one in the same run
(``--variant NAME=module:factory``)."""

from __future__ import annotations

from starlette.applications import Starlette

from pinzhi.app import create_app


def graphql_core_executor() -> Starlette:
    """The application with graphql-core's stock executor instead of the planning one
    (``schema/execution.py``): what every field cost before plans."""
    return create_app(plans=False)
