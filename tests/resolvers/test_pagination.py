"""Cursors: one that was never issued (a number past the 32-bit keys, a float, garbage) is a
coded BAD_USER_INPUT error, never an internal one."""

from __future__ import annotations

import base64

import pytest

from pinzhi.resolvers import pagination
from tests import factories as f


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


OVERFLOWING = [
    b"k:2147483648",
    b"k:1e30",
    b"k:-1",
    b"k:0",
    b"k:99999999999999999999",
    b"k:\xd9\xa1",
]


@pytest.mark.parametrize("raw", OVERFLOWING)
async def test_an_overflowing_keyset_cursor_is_bad_user_input(api, raw: bytes) -> None:
    buyer = await f.consumer()
    result = await api(
        "query($c: String) { orders(after: $c) { edges { cursor } } }",
        {"c": _b64(raw)},
        token=buyer.token,
    )
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "Invalid cursor" in result.errors[0]["message"]


@pytest.mark.parametrize(
    "raw", [b"r:1.0:2147483648", b"r:1e999:5", b"r:nan:5", b"r:1e30:1e30", b"r:5:-3"]
)
async def test_an_overflowing_ranked_cursor_is_bad_user_input(api, raw: bytes) -> None:
    result = await api(
        "query($c: String) { products(after: $c) { edges { cursor } } }", {"c": _b64(raw)}
    )
    assert result.error_codes == ["BAD_USER_INPUT"]


def test_the_largest_key_is_still_a_cursor() -> None:
    largest = pagination.encode_cursor(pagination.MAX_PK)
    assert pagination.decode_cursor(largest) == pagination.MAX_PK
