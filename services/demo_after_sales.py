"""The demo world's after-sales (QS 9.2.1, 9.2.3, 9.7.3-9.7.5): requests of every kind and
state, one left unanswered past its limit and escalated, and a premium return approved at
once, picked up free and refunded at the carrier's scan.

Everything goes through the services the API uses; what happened hours ago is run as of
then (``state.as_of``), so deadlines, trails and the queue are what they would be.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    AfterSalesKind,
    OrderLine,
    Product,
    Refund,
    RefundState,
    ReturnShipment,
    ShipmentState,
)
from pinzhi.services import (
    accounts,
    after_sales,
    jobs,
    logistics,
    refunds,
    returns,
    rules,
    state,
)

K = AfterSalesKind
ORDINARY, PREMIUM = 2, 0  # merchant indexes: the beauty shop and the baby shop


class Walk(Protocol):
    """Walks a new order of (consumer index, merchant index) to a stage, of the given
    product or the shelf's next; returns its id."""

    def __call__(
        self, consumer: int, merchant: int, stage: str, product_id: int | None = None, /
    ) -> Awaitable[int]: ...


@dataclass
class Cast:
    walk: Walk
    consumers: list[Viewer]
    merchants: list[Viewer]
    agent: Viewer
    carrier: Viewer
    carrier_id: int
    payer: Viewer


async def _settle_refunds(cast: Cast) -> None:
    """The payment provider executes every refund asked."""
    for refund in await Refund.filter(state=RefundState.REQUESTED).order_by("id"):
        await refunds.confirm_refund(cast.payer, refund.id, True, f"RF{refund.id:08d}")


async def _value(order_id: int) -> int:
    lines = await OrderLine.filter(order_id=order_id)
    return sum(line.unit_price_minor * line.quantity for line in lines)


async def _scan(cast: Cast, shipment: ReturnShipment, status: ShipmentState, n: int) -> None:
    await logistics.record_tracking_event(
        cast.carrier,
        shipment.id,
        f"RT-{shipment.id}-{n}",
        status,
        state.now(),
        "上门取件 Pick-up",
        returning=True,
    )


async def _premium_product(merchant_index: int, cast: Cast) -> Product | None:
    levels = (await rules.current("after_sales.premium")).content["levels"]
    return (
        await Product.filter(
            merchant_id=cast.merchants[merchant_index].merchant_id, grade_level__in=levels
        )
        .order_by("-grade_score", "id")
        .first()
    )


async def seed(cast: Cast, progress: Callable[[str], None]) -> None:
    buyer, other = cast.consumers[0], cast.consumers[1]
    # The beauty shop's products are graded below the premium levels: its requests take the
    # ordinary path; the baby shop's top-graded products show the premium one.
    shop = cast.merchants[ORDINARY]
    made: dict[str, int] = {}

    async def open_on(stage: str, kind: AfterSalesKind, amount: int | None, reason: str) -> int:
        order_id = await cast.walk(0, ORDINARY, stage)
        asked = await _value(order_id) if amount is None else amount
        request = await after_sales.open_request(buyer, order_id, kind, reason, amount_minor=asked)
        return request.id

    # A refund before shipment, approved and executed: the stock goes back.
    pk = await open_on("PAID", K.REFUND_BEFORE_SHIPMENT, None, "不想要了 / No longer needed")
    await after_sales.decide(shop, pk, True, "同意退款 / Refund approved")
    made["refunded before shipment"] = pk
    # A return in transit, the consumer's own carrier.
    pk = await open_on("DELIVERED", K.RETURN_REFUND, None, "尺码不合适 / Wrong size")
    await after_sales.respond(shop, pk, "请寄回，收到后退款 / Send it back for a refund")
    await after_sales.decide(shop, pk, True, "")
    await returns.ship_return(buyer, pk, cast.carrier_id, f"RTDEMO{pk:06d}")
    made["return in transit"] = pk
    # A refund without return, still waiting on the merchant (well within its limit).
    made["refund only, requested"] = await open_on(
        "DELIVERED", K.REFUND_ONLY, 500, "少了一包 / One pack missing"
    )
    # An exchange carried out and closed.
    pk = await open_on("DELIVERED", K.EXCHANGE, 0, "颜色不对 / Wrong colour")
    await after_sales.decide(shop, pk, True, "可以换货 / Exchange approved")
    await returns.ship_return(buyer, pk, cast.carrier_id, f"RTDEMO{pk:06d}")
    await returns.confirm_received(shop, pk)
    await returns.ship_replacement(shop, pk, cast.carrier_id, f"RSDEMO{pk:06d}")
    await after_sales.close(buyer, pk)
    made["exchange, closed"] = pk
    # A quality issue rejected with a reason.
    pk = await open_on("COMPLETED", K.QUALITY_ISSUE, 1000, "有异味 / Smells odd")
    await after_sales.decide(shop, pk, False, "检测合格，属正常气味 / Tested, normal smell")
    made["quality issue, rejected"] = pk
    # A re-shipment of a parcel lost on the way.
    pk = await open_on("SHIPPED", K.RESHIPMENT, 0, "快递丢失 / Parcel lost")
    await after_sales.decide(shop, pk, True, "")
    await returns.ship_replacement(shop, pk, cast.carrier_id, f"RSDEMO{pk:06d}")
    made["re-shipped"] = pk
    # One withdrawn.
    pk = await open_on("DELIVERED", K.RETURN_REFUND, None, "误操作 / By mistake")
    await after_sales.withdraw(buyer, pk)
    made["withdrawn"] = pk

    # Opened three hours ago and never answered: past its 1-hour limit, the after-sales
    # sweep flags it breached, escalates it to customer service and notifies the shop.
    with state.as_of(state.now() - timedelta(hours=3)):
        order_id = await cast.walk(1, ORDINARY, "PAID")
        late = await after_sales.open_request(
            other,
            order_id,
            K.REFUND_BEFORE_SHIPMENT,
            "迟迟不发货 / Not shipped for days",
            amount_minor=await _value(order_id),
        )
    await jobs.run("after-sales-sweep", progress=progress)
    made["breached and escalated"] = late.id

    # A consumer who asked for accessible service: served first in the queue (QS 9.2.1).
    await accounts.set_accessibility_profile(other, True)
    helped = await after_sales.open_request(
        other,
        await cast.walk(1, ORDINARY, "DELIVERED"),
        K.RETURN_REFUND,
        "不方便使用 / Hard to use",
        amount_minor=500,
    )
    made["accessibility, requested"] = helped.id

    # A premium return (QS 9.7.3-9.7.5): approved at once, picked up free by the platform's
    # booking, refunded at the carrier's pick-up scan.
    premium = await _premium_product(PREMIUM, cast)
    if premium is not None:
        order_id = await cast.walk(0, PREMIUM, "DELIVERED", premium.id)
        request = await after_sales.open_request(
            buyer,
            order_id,
            K.RETURN_REFUND,
            "品质优选，无理由退货 / No-reason return",
            amount_minor=await _value(order_id),
        )
        pickup = await ReturnShipment.get(request_id=request.id)
        await _scan(cast, pickup, ShipmentState.IN_TRANSIT, 1)
        made["premium, refunded at pick-up"] = request.id
    await _settle_refunds(cast)
    progress(f"  after-sales: {len(made)} requests ({', '.join(made)})")
