"""Product reviews are readable (QS 7.1.1): public, newest first, reviewers masked
(QS 9.4.1), a fixed number of statements for a page of products with their reviews."""

from __future__ import annotations

import pytest

from pinzhi.models import Product
from pinzhi.services import reviews
from tests import factories as f
from tests.helpers import count_sql

REVIEWS = """
query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Product {
  reviews(first: $first, after: $after) {
    edges { cursor node { id reviewer rating text praisesQuality orderId } }
    pageInfo { hasNextPage endCursor }
  } } } }"""


async def _reviewed(w: f.World, item: Product, texts: list[str]) -> list[f.Actor]:
    """One delivered order and review per text, each by its own consumer, oldest first."""
    authors = []
    w.item = item
    for n, text in enumerate(texts):
        buyer = await f.consumer(name=f"王{n}号", phone="13812345678")
        w.buyer = buyer
        placed, _ = await f.delivered_order(w)
        await reviews.submit_review(buyer.viewer, placed.id, item.id, 5 - n % 3, text)
        authors.append(buyer)
    return authors


async def test_anyone_reads_a_products_reviews_newest_first_with_reviewers_masked(api) -> None:
    w = await f.world()
    await _reviewed(w, w.item, ["质量很好，做工精细", "物流很快", "质量一点也不好"])

    result = await api(REVIEWS, {"id": f.gid("Product", w.item.id), "first": 10})

    nodes = [e["node"] for e in result.data["node"]["reviews"]["edges"]]
    assert [n["text"] for n in nodes] == ["质量一点也不好", "物流很快", "质量很好，做工精细"]
    assert [n["praisesQuality"] for n in nodes] == [False, False, True]
    assert [n["reviewer"] for n in nodes] == ["王**", "王**", "王**"]
    assert all(n["orderId"] is None for n in nodes)


@pytest.mark.parametrize("who", ["author", "merchant", "regulator", "other_consumer"])
async def test_who_sees_the_reviewers_name_and_order(api, who: str) -> None:
    """The reviewer sees its own name and order; the product's merchant, staff and
    regulators its order but a masked name; everyone else neither."""
    w = await f.world()
    author = (await _reviewed(w, w.item, ["质量不错"]))[0]
    token = {
        "author": author.token,
        "merchant": w.seller.token,
        "regulator": w.regulator.token,
        "other_consumer": w.other_buyer.token,
    }[who]

    node = (await api(REVIEWS, {"id": f.gid("Product", w.item.id)}, token=token)).data["node"]
    review = node["reviews"]["edges"][0]["node"]

    assert review["reviewer"] == ("王0号" if who == "author" else "王**")
    assert (review["orderId"] is not None) == (who in {"author", "merchant", "regulator"})


async def test_reviews_page_with_cursors(api) -> None:
    w = await f.world()
    await _reviewed(w, w.item, [f"第{n}条 review {n}" for n in range(5)])
    seen: list[str] = []
    after = None
    while True:
        page = (
            await api(REVIEWS, {"id": f.gid("Product", w.item.id), "first": 2, "after": after})
        ).data["node"]["reviews"]
        seen += [e["node"]["text"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"第{n}条 review {n}" for n in reversed(range(5))]


LIST = """
query { products(first: 50) { nodes { id reviews(first: 2) {
  nodes { reviewer rating praisesQuality } pageInfo { hasNextPage } } } } }"""


async def test_a_page_of_products_with_their_reviews_costs_fixed_statements(api) -> None:
    """Decision 7: the reviews of every product on a page load in one window query, and
    their reviewers' names in one more, whatever the number of products."""
    w = await f.world()
    main = w.item
    await _reviewed(w, main, ["质量好", "一般", "还行"])
    counts = []
    for extra in (1, 6):
        for _ in range(extra):
            other = await f.product(w.shop)
            await _reviewed(w, other, ["质量很好"])
        with count_sql() as sql:
            result = await api(LIST)
        assert not result.errors
        counts.append(sql.count)
    assert counts[0] == counts[1], counts
    listed = result.data["products"]["nodes"]
    first = next(p for p in listed if p["id"] == f.gid("Product", main.id))
    assert len(first["reviews"]["nodes"]) == 2 and first["reviews"]["pageInfo"]["hasNextPage"]


async def test_reviews_of_a_product_out_of_sight_are_out_of_sight(api) -> None:
    """An unlisted product is not readable by consumers, nor are its reviews."""
    w = await f.world()
    await _reviewed(w, w.item, ["质量很好"])
    await Product.filter(id=w.item.id).update(is_listed=False)
    node = await api(REVIEWS, {"id": f.gid("Product", w.item.id)}, token=w.other_buyer.token)
    assert node.data["node"] is None
