"""What merchants and products prove: brands, licences, deposits, certificates, reviews
(QS 6.1.1, 7.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from pinzhi.models.enums import (
    BrandRelation,
    CertificateKind,
    CertificateResult,
    LicenceKind,
    SubmissionState,
)

if TYPE_CHECKING:
    from pinzhi.models.accounts import Account
    from pinzhi.models.catalog import Merchant, Product
    from pinzhi.models.orders import Order


class Submission(Model):
    """A record a merchant submits with evidence and compliance staff verify or reject
    (QS 6.1.1): until verified it counts for nothing, and every step is traced."""

    # Database defaults too: the columns were added to tables that had rows.
    state = fields.CharEnumField(
        SubmissionState,
        max_length=10,
        default=SubmissionState.SUBMITTED,
        db_default=SubmissionState.SUBMITTED,
    )
    # [{"description": ..., "url": ...}], as for violation cases.
    evidence: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list, db_default=[])
    submitted_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    submitted_by_id: int | None
    reviewed_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    reviewed_by_id: int | None
    reviewed_at = fields.DatetimeField(null=True)
    review_note = fields.TextField(default="", db_default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True


class BrandRegistration(Submission):
    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="brands"
    )
    merchant_id: int
    brand = fields.CharField(max_length=100)
    relation = fields.CharEnumField(BrandRelation, max_length=12)
    registration_number = fields.CharField(max_length=64)
    valid_until = fields.DatetimeField()

    class Meta:
        table = "brand_registration"
        indexes = (("merchant_id", "id"),)


class MerchantLicence(Submission):
    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="licences"
    )
    merchant_id: int
    kind = fields.CharEnumField(LicenceKind, max_length=30)
    number = fields.CharField(max_length=64)
    valid_until = fields.DatetimeField()

    class Meta:
        table = "merchant_licence"
        indexes = (("merchant_id", "id"),)


class DepositPayment(Submission):
    """Money a merchant paid into its security deposit (QS 6.1.1 credit), by bank transfer
    with its reference: held once verified."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation[Merchant] = fields.ForeignKeyField(
        "models.Merchant", related_name="deposit_payments"
    )
    merchant_id: int
    amount_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3, default="CNY")
    reference = fields.CharField(max_length=100)

    class Meta:
        table = "deposit_payment"
        indexes = (("merchant_id", "id"),)
        unique_together = (("merchant_id", "reference"),)


class ProductCertificate(Model):
    """An inspection, certification, authorisation or compliance record (QS 7.1.1, 7.1.2)."""

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="certificates"
    )
    product_id: int
    kind = fields.CharEnumField(CertificateKind, max_length=30)
    agency = fields.CharField(max_length=200)
    report_number = fields.CharField(max_length=64)
    result = fields.CharEnumField(CertificateResult, max_length=4)
    issued_at = fields.DatetimeField()
    valid_until = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "product_certificate"
        indexes = (("product_id", "kind"),)


class ProductReview(Model):
    """A consumer's review of a product they received (QS 7.1.1 reviews)."""

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="reviews"
    )
    product_id: int
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="reviews"
    )
    order_id: int
    consumer: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="reviews"
    )
    consumer_id: int
    rating = fields.SmallIntField()
    text = fields.TextField(default="")
    # Whether the text praises quality (keyword rule, negation-aware), fixed when written.
    praises_quality = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "product_review"
        unique_together = (("order_id", "product_id"),)
        indexes = (("product_id", "id"),)
