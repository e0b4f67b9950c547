"""Helpers for tests: a GraphQL client and an SQL statement counter."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from pinzhi.bench import measure
from pinzhi.bench.measure import SqlCounter


@dataclass
class Response:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        assert not self.body.get("errors"), self.body.get("errors")
        return self.body["data"]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def error_codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient):
        self.http = http

    async def warm(self, token: str) -> None:
        """One request with ``token``, so that the credential's check (the account's
        standing, remembered a minute in the cache) is not counted in the next ones."""
        await self("{ __typename }", token=token)

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        return Response(response.status_code, response.json())


def count_sql() -> AbstractContextManager[SqlCounter]:
    """The benchmarks' counter (bench/measure.py), keeping each statement for a failing
    assertion to print."""
    return measure.count_sql(keep=True)


def make_app(cache: Any, **changes: Any) -> Any:
    """The app on the test database with some settings changed."""
    import dataclasses

    from pinzhi.app import create_app
    from pinzhi.settings import get_settings

    settings = dataclasses.replace(get_settings(), **changes)
    return create_app(settings, manage_database=False, cache=cache)


def client_for(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50003))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@dataclass
class Clock:
    """The services' clock (``state.now``) held still: tests that show a deadline's
    boundary set it one second before and one after."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at
