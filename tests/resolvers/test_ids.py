"""Global ids: exactly the ones the schema issues decode; anything else is a missing id."""

from __future__ import annotations

import base64

import pytest

from pinzhi.resolvers.ids import from_global_id, to_global_id


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


def test_an_issued_id_round_trips() -> None:
    assert from_global_id(to_global_id("Payment", 60)) == ("Payment", 60)


@pytest.mark.parametrize(
    "raw", ["Payment:060", "Payment: 60", "Payment:60 ", "Payment:+60", "Payment:６０", "Payment:0"]
)
def test_one_object_has_one_id(raw: str) -> None:
    """An id that names a row in a way the schema never writes is not that row's id."""
    assert from_global_id(_b64(raw)) is None
