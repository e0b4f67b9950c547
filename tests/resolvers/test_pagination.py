"""Keyset pagination: cursors that were never issued are coded BAD_USER_INPUT errors, and
Relay connections page both ways with a complete pageInfo."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from graphql import GraphQLError

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


# --- Relay connections, both ways ---------------------------------------------------------------

PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  merchants(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def _page(api, **window) -> tuple[list[str], dict]:
    result = await api(PAGE, window)
    connection = result.data["merchants"]
    edges = connection["edges"]
    info = connection["pageInfo"]
    # The page's cursors are its first and last edges'.
    assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
    assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
    return [e["node"]["name"] for e in edges], info


async def _shops(count: int) -> list[str]:
    return [(await f.merchant(f"Shop {i}"))[0].name for i in range(count)]


async def test_a_list_pages_forwards_newest_first(api) -> None:
    names = list(reversed(await _shops(7)))

    first, info1 = await _page(api, first=3)
    second, info2 = await _page(api, first=3, after=info1["endCursor"])
    third, info3 = await _page(api, first=3, after=info2["endCursor"])

    assert [first, second, third] == [names[0:3], names[3:6], names[6:7]]
    assert [i["hasNextPage"] for i in (info1, info2, info3)] == [True, True, False]
    assert [i["hasPreviousPage"] for i in (info1, info2, info3)] == [False, True, True]


async def test_a_list_pages_backwards_with_last_and_before(api) -> None:
    """Relay: `last` alone is the end of the list (the oldest rows); `before` the start
    cursor of a page gives the rows just before it, still newest first."""
    names = list(reversed(await _shops(7)))

    end, info1 = await _page(api, last=3)
    middle, info2 = await _page(api, last=3, before=info1["startCursor"])
    start, info3 = await _page(api, last=3, before=info2["startCursor"])

    assert [end, middle, start] == [names[4:7], names[1:4], names[0:1]]
    assert [i["hasPreviousPage"] for i in (info1, info2, info3)] == [True, True, False]
    assert [i["hasNextPage"] for i in (info1, info2, info3)] == [False, True, True]


async def test_a_backward_step_returns_the_page_a_forward_step_left(api) -> None:
    await _shops(5)
    first, info1 = await _page(api, first=2)
    _, info2 = await _page(api, first=2, after=info1["endCursor"])

    back, _ = await _page(api, last=2, before=info2["startCursor"])

    assert back == first


@pytest.mark.parametrize(
    "window",
    [{"first": 2, "last": 2}, {"after": "x", "last": 2}, {"first": 2, "before": "x"}],
)
async def test_forwards_and_backwards_at_once_is_bad_user_input(api, window) -> None:
    result = await api(PAGE, window)
    assert result.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("last", [-1, 101])
async def test_last_outside_its_bounds_is_bad_user_input(api, last: int) -> None:
    result = await api(PAGE, {"last": last})
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "last" in result.errors[0]["message"]


async def test_a_backward_page_is_scoped_like_a_forward_one(api) -> None:
    """Scoping (auth/scopes.py) holds both ways: walking a consumer's orders backwards
    never reaches another consumer's."""
    w = await f.world()
    mine = [await f.order(w.buyer, w.item) for _ in range(3)]
    await f.order(w.other_buyer, w.item)

    result = await api(
        "{ orders(last: 10) { nodes { id } pageInfo { hasPreviousPage hasNextPage } } }",
        token=w.buyer.token,
    )

    orders = result.data["orders"]
    assert [n["id"] for n in orders["nodes"]] == [f.gid("Order", o.id) for o in reversed(mine)]
    assert orders["pageInfo"] == {"hasPreviousPage": False, "hasNextPage": False}


def test_queue_cursors_round_trip_and_refuse_what_was_never_issued() -> None:
    """QS 9.2.1's queue pages on (priority, deadline, id): its cursor keeps all three
    exactly, to the microsecond, and anything else is an invalid cursor."""
    due = datetime(2026, 12, 2, 3, 4, 5, 678901, tzinfo=UTC)
    cursor = pagination.encode_queue_cursor(2, due, 41)
    assert pagination.decode_queue_cursor(cursor) == (2, due, 41)
    never_issued = ["q:-1:0:1", "q:1:x:1", "q:1:0:0", "r:1:0:1", "q:99999:0:1", "q:1:9" * 9]
    for raw in never_issued:
        with pytest.raises(GraphQLError):
            pagination.decode_queue_cursor(_b64(raw.encode()))
