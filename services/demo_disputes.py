"""Quality disputes in the demo world (QS 9.7.7): one settled by the parties, one
arbitrated by customer service.

Both grow from the demo's own orders through the same services as the API:

- 张三 complains that the beauty shop's cream caused an allergy; customer service finds
  the product as labelled (not upheld). 张三 disputes it, the shop offers a partial refund,
  张三 declines and offers to settle for half the order back; the shop accepts, the refund
  is asked and the payment provider makes it (settled first, 先行和解).
- 李四 reports a quality problem with tea from the food shop, which rejects the request.
  李四 disputes it, the shop offers a replacement, 李四 declines; both ask the platform to
  arbitrate, and customer service awards the whole price back plus compensation equal to
  it. The payment can take the refund but not the compensation as well, so the
  compensation is owed by the advance-compensation fund (``fund_payout_due_minor``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    AfterSalesKind,
    ComplaintCategory,
    Order,
    OrderState,
    Refund,
    RefundState,
)
from pinzhi.services import after_sales, complaints, disputes, refunds
from pinzhi.services.disputes import Terms


@dataclass
class Cast:
    consumers: list[Viewer]
    merchants: list[Viewer]
    agent: Viewer  # customer service
    payment: Viewer  # the payment provider
    # (consumer index, merchant index, order id) of orders walked to COMPLETED, or later
    completed: list[tuple[int, int, int]]


async def _order(cast: Cast, consumer: int, merchant: int) -> Order:
    """The newest completed order of the consumer at the merchant."""
    ids = [o for ci, mi, o in cast.completed if (ci, mi) == (consumer, merchant)]
    order = await Order.filter(id__in=ids, state=OrderState.COMPLETED).order_by("-id").first()
    if order is None:
        raise LookupError(f"no completed order of consumer {consumer} at merchant {merchant}")
    return order


async def _make_refunds(cast: Cast, order: Order) -> None:
    """The payment provider reports the order's refunds done."""
    for refund in await Refund.filter(order_id=order.id, state=RefundState.REQUESTED):
        await refunds.confirm_refund(cast.payment, refund.id, True, f"SPR{refund.id:08d}")


async def _settled(cast: Cast) -> None:
    buyer, shop = cast.consumers[0], cast.merchants[2]
    order = await _order(cast, 0, 2)
    complaint = await complaints.file_complaint(
        buyer,
        order.id,
        None,
        "面霜使用后皮肤过敏 / The cream caused an allergic reaction",
        ComplaintCategory.QUALITY,
    )
    await complaints.handle_complaint(
        cast.agent,
        complaint.id,
        resolution="成分与标注一致，建议停用 / Ingredients as labelled; stop using it",
        upheld=False,
    )
    dispute = await disputes.open_dispute(
        buyer,
        complaint_id=complaint.id,
        reason="过敏有医院证明 / A clinic confirmed the allergy",
        description="附门诊病历 / Clinic record attached",
    )
    _, first = await disputes.make_offer(
        shop,
        dispute.id,
        Terms(refund_minor=order.total_minor // 5),
        "退两成作为补偿 / A fifth back as goodwill",
    )
    await disputes.decline_offer(buyer, first.id, "金额太少 / Too little")
    _, counter = await disputes.make_offer(
        buyer,
        dispute.id,
        Terms(refund_minor=order.total_minor // 2),
        "退一半即可和解 / Half back and we settle",
    )
    await disputes.accept_offer(shop, counter.id, "同意 / Agreed")
    await _make_refunds(cast, order)


async def _arbitrated(cast: Cast) -> None:
    buyer, shop = cast.consumers[1], cast.merchants[1]
    order = await _order(cast, 1, 1)
    request = await after_sales.open_request(
        buyer,
        order.id,
        AfterSalesKind.QUALITY_ISSUE,
        "茶叶受潮发霉 / The tea is damp and mouldy",
        amount_minor=order.total_minor,
        evidence=["uploads/demo/tea-1.jpg"],
    )
    await after_sales.decide(
        shop, request.id, False, "出库时检验合格 / It passed inspection when shipped"
    )
    dispute = await disputes.open_dispute(
        buyer,
        request_id=request.id,
        reason="收到即发霉 / Mouldy on arrival",
    )
    _, offer = await disputes.make_offer(
        shop, dispute.id, Terms(replacement=True), "可换新 / We can replace it"
    )
    await disputes.decline_offer(buyer, offer.id, "要求退款 / I want my money back")
    await disputes.request_arbitration(shop, dispute.id, "请平台判定 / Please decide")
    await disputes.request_arbitration(buyer, dispute.id, "同意仲裁 / Agreed")
    await disputes.arbitrate(
        cast.agent,
        dispute.id,
        Terms(refund_minor=order.total_minor, compensation_minor=order.total_minor),
        "照片显示到货即霉变，退全款并赔偿一倍 / Photos show mould on arrival: full refund "
        "and compensation of the same amount",
    )
    await _make_refunds(cast, order)


async def seed(cast: Cast, progress: Callable[[str], None]) -> None:
    await _settled(cast)
    await _arbitrated(cast)
    progress("  disputes: 2 (settled by the parties, arbitrated with a fund payout due)")
