"""Merchant and product graphs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth.scopes import sees_merchant_internals

# Modules, not names: they import this one back, so their names are read at call time and
# their types through strawberry.lazy.
from pinzhi.schema import feedback, grading, products, qualifications, training, violations
from pinzhi.schema.base import Connection, Money, Node, Preloadable, relation, to_global_id
from pinzhi.schema.enums import ProviderKind
from pinzhi.schema.reviews import ProductReview
from pinzhi.services.key_control import is_under_key_control

if TYPE_CHECKING:
    from pinzhi.schema.feedback import FeedbackSummary
    from pinzhi.schema.grading import Incentives, LiveGrade, MerchantGradeDetail
    from pinzhi.schema.products import ProductCertificate, ProductGradeDetail
    from pinzhi.schema.qualifications import BrandRegistration, DepositPayment, MerchantLicence
    from pinzhi.schema.training import Enrolment
    from pinzhi.schema.violations import KeyControl


@strawberry.type(description="A grade level, visible to everyone (QS 6.1.1, 7.2).")
class MerchantGrade:
    level: str
    provisional: bool
    rule_version: int | None
    graded_at: datetime | None


@strawberry.type(description="A merchant's security deposit (QS 6.1.1 credit).")
class Deposit:
    held: Money = strawberry.field(description="Verified payments less deductions.")
    required: Money = strawberry.field(description="What its agreement requires.")


@strawberry.type(description="A shop selling on the platform.")
class Merchant(Node):
    name: str
    description: str
    created_at: datetime
    grade: MerchantGrade | None = strawberry.field(
        description="The grade level in force (QS 6.1.1); public. Null until first graded."
    )
    pk: strawberry.Private[int]
    row: strawberry.Private[models.Merchant]

    @classmethod
    def from_row(cls, row: models.Merchant) -> Merchant:
        return cls(
            id=to_global_id("Merchant", row.id),
            pk=row.id,
            row=row,
            name=row.name,
            description=row.description,
            created_at=row.created_at,
            grade=(
                MerchantGrade(
                    level=row.grade_level,
                    provisional=row.grade_provisional,
                    rule_version=row.grade_rule_version,
                    graded_at=row.graded_at,
                )
                if row.grade_level
                else None
            ),
        )

    @strawberry.field(
        description="Sub-scores, inputs and reasons of the grade in force: for the merchant, "
        "staff and regulators; null for others."
    )
    async def grade_detail(
        self, info: Info
    ) -> Annotated[MerchantGradeDetail, strawberry.lazy("pinzhi.schema.grading")] | None:

        return await grading.grade_detail(info, self.pk)

    @strawberry.field(description="Every grading, newest first; same audience as gradeDetail.")
    async def grade_history(
        self, info: Info
    ) -> list[Annotated[MerchantGradeDetail, strawberry.lazy("pinzhi.schema.grading")]] | None:

        return await grading.grade_history(info, self.pk)

    @strawberry.field(
        description="The grade recomputed from live data now (QS 6.1.2); same audience."
    )
    async def live_grade(
        self, info: Info
    ) -> Annotated[LiveGrade, strawberry.lazy("pinzhi.schema.grading")] | None:

        return await grading.live_grade(info, self.pk)

    @strawberry.field(description="Commission and financing in force (QS 6.2); same audience.")
    async def incentives(
        self, info: Info
    ) -> Annotated[Incentives, strawberry.lazy("pinzhi.schema.grading")] | None:

        return await grading.merchant_incentives(info, self.row)

    @strawberry.field(
        description="Satisfaction with this merchant (QS 10.2): for the merchant itself, "
        "staff and regulators; null for others."
    )
    async def feedback_summary(
        self, info: Info
    ) -> Annotated[FeedbackSummary, strawberry.lazy("pinzhi.schema.feedback")] | None:

        return await feedback.merchant_summary(info, self.pk)

    @strawberry.field(description="Whether the merchant is under key control (QS 6.4); public.")
    def under_key_control(self) -> bool:

        return is_under_key_control(self.row)

    @strawberry.field(
        description="Key control and its restrictions (QS 6.4): for the merchant itself, staff "
        "and regulators; null for others and when not under key control."
    )
    async def key_control(
        self, info: Info
    ) -> Annotated[KeyControl, strawberry.lazy("pinzhi.schema.violations")] | None:

        return await violations.merchant_key_control(info, self.pk)

    @strawberry.field(
        description="Licences and permits submitted, with their review (QS 6.1.1): for the "
        "merchant itself, staff and regulators; null for others."
    )
    async def licences(
        self, info: Info
    ) -> list[Annotated[MerchantLicence, strawberry.lazy("pinzhi.schema.qualifications")]] | None:

        return await qualifications.merchant_records(
            info, self.pk, "licences_by_merchant_id", qualifications.MerchantLicence
        )

    @strawberry.field(description="Brands registered or authorised (QS 6.1.1); same audience.")
    async def brand_registrations(
        self, info: Info
    ) -> list[Annotated[BrandRegistration, strawberry.lazy("pinzhi.schema.qualifications")]] | None:

        return await qualifications.merchant_records(
            info, self.pk, "brands_by_merchant_id", qualifications.BrandRegistration
        )

    @strawberry.field(
        description="Deposit payments (QS 6.1.1 credit) and the deposit held and required; "
        "same audience."
    )
    async def deposit_payments(
        self, info: Info
    ) -> list[Annotated[DepositPayment, strawberry.lazy("pinzhi.schema.qualifications")]] | None:

        return await qualifications.merchant_records(
            info, self.pk, "deposits_by_merchant_id", qualifications.DepositPayment
        )

    @strawberry.field(
        description="The security deposit held and required (QS 6.1.1 credit): for the "
        "merchant itself, staff and regulators; null for others."
    )
    def deposit(self, info: Info) -> Deposit | None:
        if not sees_merchant_internals(info.context.viewer, self.pk):
            return None
        return Deposit(
            held=Money(amount_minor=self.row.deposit_held_minor, currency="CNY"),
            required=Money(amount_minor=self.row.deposit_required_minor, currency="CNY"),
        )

    @strawberry.field(
        description="Training enrolments and assessments (QS 6.3): for the merchant itself, "
        "staff and regulators; null for others."
    )
    async def training_records(
        self, info: Info
    ) -> list[Annotated[Enrolment, strawberry.lazy("pinzhi.schema.training")]] | None:

        return await training.merchant_training(info, self.pk)


@strawberry.type(description="A product's grade level and total score, public (QS 7.1.1, 7.2).")
class ProductGrade:
    level: str
    score: float | None
    rule_version: int | None
    graded_at: datetime | None


async def merchant_of(info: Info, pk: int) -> Merchant | None:
    row = await info.context.loaders.merchant_by_id.load(pk)
    return Merchant.from_row(row) if row else None


@strawberry.type(description="A product listed by a merchant.")
class Product(Preloadable, Node):
    title: str
    category: str
    price: Money
    stock: int
    is_listed: bool
    created_at: datetime
    attributes: JSON = strawberry.field(
        description="Listing attributes by name (brand, origin, shelf_life, ...)."
    )
    grade: ProductGrade | None = strawberry.field(
        description="The grade in force (QS 7.1.1); public. Null until first graded."
    )
    pk: strawberry.Private[int]
    merchant_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Product) -> Product:
        return cls(
            id=to_global_id("Product", row.id),
            pk=row.id,
            merchant_pk=row.merchant_id,
            title=row.title,
            category=row.category,
            price=Money(amount_minor=row.price_minor, currency=row.currency),
            stock=row.stock,
            is_listed=row.is_listed,
            created_at=row.created_at,
            attributes=JSON(row.attributes),
            grade=(
                ProductGrade(
                    level=row.grade_level,
                    score=row.grade_score,
                    rule_version=row.grade_rule_version,
                    graded_at=row.graded_at,
                )
                if row.grade_level
                else None
            ),
        )

    @relation()
    def merchant(self, info: Info) -> Merchant | None:
        return self.preloaded_or("merchant", lambda: merchant_of(info, self.merchant_pk))

    @strawberry.field(
        description="A key category (mother & baby, food, cosmetics by the published rule), "
        "whose grade needs a valid inspection (QS 7.1.2)."
    )
    async def is_key_category(self, info: Info) -> bool:

        return await products.is_key_category(info, self.category)

    @strawberry.field(
        description="The quality badge of traffic support (QS 7.2) by the published rule's "
        "badge levels, in the request's language; null below them."
    )
    async def badge(self, info: Info) -> str | None:

        return await products.badge(info, self.grade.level if self.grade else None)

    @strawberry.field(description="Inspection and certification records (QS 7.1.1, 7.1.2); public.")
    async def certificates(
        self, info: Info
    ) -> list[Annotated[ProductCertificate, strawberry.lazy("pinzhi.schema.products")]]:

        return await products.certificates(info, self.pk)

    @strawberry.field(
        description="Consumers' reviews, newest first (QS 7.1.1): public, reviewers' names "
        "masked; `praisesQuality` says which count in the praise-keyword rate."
    )
    async def reviews(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ProductReview]:

        return await products.product_reviews(info, self.pk, self.merchant_pk, first, after)

    @strawberry.field(
        description="Sub-scores, inputs and reasons of the latest grade: for the product's "
        "merchant, staff and regulators; null for others."
    )
    async def grade_detail(
        self, info: Info
    ) -> Annotated[ProductGradeDetail, strawberry.lazy("pinzhi.schema.products")] | None:

        return await products.grade_detail(info, self.pk, self.merchant_pk)


@strawberry.type(description="A logistics or payment company integrated with the platform.")
class ServiceProvider(Node):
    name: str
    kind: ProviderKind
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.ServiceProvider) -> ServiceProvider:
        return cls(
            id=to_global_id("ServiceProvider", row.id), pk=row.id, name=row.name, kind=row.kind
        )
