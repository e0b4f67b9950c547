"""Consumers' reviews of products (QS 7.1.1 reviews): public, the reviewer masked."""

from __future__ import annotations

from datetime import datetime

import strawberry

from pinzhi import models
from pinzhi.schema.base import to_global_id


@strawberry.type(description="A consumer's review of a product it received (QS 7.1.1).")
class ProductReview:
    id: strawberry.ID
    product_id: strawberry.ID
    order_id: strawberry.ID | None = strawberry.field(
        description="The order it was bought in: for the reviewer, the product's merchant, "
        "staff and regulators; null for others."
    )
    reviewer: str = strawberry.field(
        description="The reviewer's name, masked (张*) for everyone but the reviewer (QS 9.4.1)."
    )
    rating: int
    text: str
    praises_quality: bool = strawberry.field(
        description="Whether the text praises quality, by the published keyword rule of "
        "product.grading; it counts in the product's praise-keyword rate."
    )
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.ProductReview, reviewer: str, show_order: bool) -> ProductReview:
        return cls(
            id=to_global_id("ProductReview", row.id),
            product_id=to_global_id("Product", row.product_id),
            order_id=to_global_id("Order", row.order_id) if show_order else None,
            reviewer=reviewer,
            rating=row.rating,
            text=row.text,
            praises_quality=row.praises_quality,
            created_at=row.created_at,
        )
