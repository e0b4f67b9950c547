"""Inspection and certification records of products (QS 7.1.1, 7.1.2).

A product's merchant records its own products' certificates; compliance staff record any
product's (e.g. the results of the platform's sampling inspections). The records are
public: agency, dates, result and report number, so that anyone can check them.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    CertificateKind,
    CertificateResult,
    Product,
    ProductCertificate,
    Role,
)
from pinzhi.services import audit, state, validation
from pinzhi.services.lookup import get_visible


def is_valid(certificate: ProductCertificate, at: datetime) -> bool:
    """Issued and not yet expired at ``at``: the one test of a certificate's validity."""
    return certificate.issued_at <= at < certificate.valid_until


def _dates(issued_at: datetime | None, valid_until: datetime | None) -> tuple[datetime, datetime]:
    issued_at = validation.moment(issued_at, "issuedAt", ErrorCode.INVALID_VALIDITY)
    valid_until = validation.moment(valid_until, "validUntil", ErrorCode.INVALID_VALIDITY)
    if issued_at > state.now():
        raise ServiceError(ErrorCode.INVALID_VALIDITY, ("issuedAt",), "in the future")
    if valid_until <= issued_at:
        raise ServiceError(ErrorCode.INVALID_VALIDITY, ("validUntil",), "not after issuedAt")
    return issued_at, valid_until


async def record_certificate(
    viewer: Viewer,
    product_id: int | None,
    kind: CertificateKind,
    agency: str,
    report_number: str,
    result: CertificateResult,
    issued_at: datetime | None,
    valid_until: datetime | None,
) -> ProductCertificate:
    is_merchant = viewer.role == Role.MERCHANT
    require(viewer, Action.RECORD_PRODUCT_CERTIFICATE)
    agency_text = validation.text(agency, "agency", max_len=200)
    number = validation.text(report_number, "reportNumber", max_len=64)
    try:
        kind, result = CertificateKind(kind), CertificateResult(result)
    except ValueError as exc:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("kind",)) from exc
    issued_at, valid_until = _dates(issued_at, valid_until)
    product = await get_visible(viewer, Product, product_id, "productId")
    if is_merchant and product.merchant_id != viewer.merchant_id:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("productId",), "not your product")
    if await ProductCertificate.filter(
        product_id=product.id, kind=kind, report_number=number
    ).exists():
        raise ServiceError(ErrorCode.INVALID_INPUT, ("reportNumber",), "already recorded")
    async with in_transaction():
        row = await ProductCertificate.create(
            product_id=product.id,
            kind=kind,
            agency=agency_text,
            report_number=number,
            result=result,
            issued_at=issued_at,
            valid_until=valid_until,
        )
        await audit.append(
            "ProductCertificate",
            row.id,
            "recorded",
            actor=viewer,
            to_state=str(result),
            data={"product_id": product.id, "kind": str(kind), "report_number": number},
        )
    return row
