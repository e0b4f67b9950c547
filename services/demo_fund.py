"""The demo world's advance-compensation fund (QS 9.7.6): the platform's contribution and a
merchant's, then one payout paid first to a consumer about a quality complaint, and its
recovery taken from the responsible merchant's deposit (held while the merchant may
appeal its case).

Through the same services as the API, so the ledger, the claims and their trails are what
the rules make of them; the idempotency keys make a second run add nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    Complaint,
    ContributionSource,
    FundRecovery,
    Order,
    PayoutCause,
    PayoutSubject,
    RecoveryMethod,
    RecoveryState,
)
from pinzhi.services.fund import contributions, ledger, payouts, recoveries

PLATFORM_CONTRIBUTION_MINOR = 5_000_000
MERCHANT_CONTRIBUTION_MINOR = 500_000
PAYOUT_MINOR = 2_000


@dataclass(frozen=True)
class FundSeed:
    cash_minor: int
    held_minor: int
    payout_id: int
    recovery_id: int


async def seed_demo(
    *,
    admin: Viewer,
    agent: Viewer,
    compliance: Viewer,
    complaint_id: int,
    contributor_merchant_id: int | None = None,
    progress: Callable[[str], None] = print,
) -> FundSeed:
    """Seed the fund: ``admin`` (admin duty) records the contributions, ``agent``
    (customer service) pays the consumer of ``complaint_id`` first, ``compliance`` takes
    the recovery from the merchant's deposit."""
    await contributions.contribute(
        admin,
        PLATFORM_CONTRIBUTION_MINOR,
        ContributionSource.PLATFORM,
        None,
        "PLATFORM-FUND-2026-001",
        "平台首期注资 / The platform's first contribution",
        "demo-fund-platform-0001",
    )
    if contributor_merchant_id is not None:
        await contributions.contribute(
            admin,
            MERCHANT_CONTRIBUTION_MINOR,
            ContributionSource.MERCHANT,
            contributor_merchant_id,
            f"MERCHANT-FUND-{contributor_merchant_id:04d}",
            "商家自愿缴纳 / A merchant's voluntary contribution",
            "demo-fund-merchant-0001",
        )
    complaint = await Complaint.get(id=complaint_id)
    order = await Order.get(id=complaint.order_id)
    payout, _ = await payouts.approve_payout(
        agent,
        payouts.PayoutRequest(
            PayoutSubject.COMPLAINT,
            complaint.id,
            PayoutCause.PRODUCT_QUALITY,
            min(PAYOUT_MINOR, order.total_minor),
        ),
        "商品划痕，先行赔付 / Scratched on arrival: paid first",
        "demo-fund-payout-0001",
    )
    recovery = await FundRecovery.get(payout_id=payout.id)
    if recovery.state == RecoveryState.OPEN:
        recovery = await recoveries.record_recovery(
            compliance,
            recovery.id,
            RecoveryMethod.DEPOSIT,
            "从保证金追偿 / Recovered from the merchant's deposit",
        )
    held = await ledger.balances([ledger.CASH.code, ledger.HELD.code])
    seeded = FundSeed(held[ledger.CASH.code], held[ledger.HELD.code], payout.id, recovery.id)
    progress(
        f"  fund: 2 contributions, 1 payout, its recovery held from the deposit "
        f"(cash {seeded.cash_minor}, held {seeded.held_minor})"
    )
    return seeded
