"""The demo world's bulky goods (QS 9.7.5): a solid-wood crib that the baby shop delivers
with installation, one order with its slot booked and a trade-in asked, another installed
last week with the old crib collected at the door and its value credited.

Everything goes through the services the API uses; what happened days ago is run as of
then (``state.as_of``), so slots, deadlines and trails are what they would be.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pinzhi.auth.viewer import Viewer
from pinzhi.models import (
    OrderLine,
    Product,
    Refund,
    RefundState,
    Shipment,
    ShipmentState,
    TradeInCondition,
)
from pinzhi.services import bulky, logistics, refunds, rules, state, trade_ins

BABY_SHOP = 0
CRIB = ("实木婴儿床（含安装）Solid-wood baby crib, installed", "furniture", 259900, 30)


class Walk(Protocol):
    """Walks a new order of (consumer index, merchant index) to a stage, of the given
    product; returns its id (services/demo.py)."""

    def __call__(
        self, consumer: int, merchant: int, stage: str, product_id: int | None = None, /
    ) -> Awaitable[int]: ...


@dataclass
class Cast:
    walk: Walk
    consumers: list[Viewer]
    merchants: list[Viewer]
    carrier: Viewer
    carrier_id: int
    payer: Viewer


async def _slot_from(moment: datetime, days: int) -> datetime:
    """The first slot of the rule in force that starts ``days`` or more after ``moment``."""
    installation = (await rules.current(bulky.RULE_KEY)).content["installation"]
    after = moment + timedelta(days=days)
    return next(start for start, _ in bulky.open_slots(moment, installation) if start >= after)


async def _line_of(order_id: int) -> int:
    return (await OrderLine.get(order_id=order_id)).id


async def seed(cast: Cast, progress: Callable[[str], None]) -> None:
    title, category, price, stock = CRIB
    merchant_id = cast.merchants[BABY_SHOP].merchant_id
    crib, _ = await Product.get_or_create(
        merchant_id=merchant_id,
        title=title,
        defaults={"category": category, "price_minor": price, "stock": stock},
    )
    shop = cast.merchants[BABY_SHOP]

    # Paid today: the slot booked two days ahead, the old crib offered for trade-in.
    order_id = await cast.walk(0, BABY_SHOP, "PAID", crib.id)
    line_id = await _line_of(order_id)
    await bulky.book(
        cast.consumers[0],
        line_id,
        await _slot_from(state.now(), 2),
        "五楼有电梯 / Fifth floor, with a lift",
    )
    await trade_ins.request(
        cast.consumers[0], line_id, TradeInCondition.WORN, "旧婴儿床 / Old crib"
    )

    # Paid six days ago: shipped the next day, delivered and installed in its slot, the
    # old crib collected at the door and its credit paid by the payment provider.
    paid_at = state.now() - timedelta(days=6)
    with state.as_of(paid_at):
        order_id = await cast.walk(1, BABY_SHOP, "PAID", crib.id)
        line_id = await _line_of(order_id)
        slot = await _slot_from(paid_at, 2)
        appointment = await bulky.book(cast.consumers[1], line_id, slot)
        offered = await trade_ins.request(
            cast.consumers[1], line_id, TradeInCondition.WORKING, "旧婴儿床 / Old crib"
        )
    with state.as_of(paid_at + timedelta(days=1)):
        await logistics.ship_order(shop, order_id, cast.carrier_id, f"SDBULKY{order_id:06d}")
        await bulky.confirm(shop, appointment.id)
        await trade_ins.accept(shop, offered.id)
    with state.as_of(slot + timedelta(minutes=40)):
        shipment = await Shipment.get(order_id=order_id)
        await logistics.record_tracking_event(
            cast.carrier,
            shipment.id,
            f"EV-BULKY-{shipment.id}",
            ShipmentState.DELIVERED,
            state.now(),
            "送货上门 Delivered to the door",
        )
        await trade_ins.record_collected(
            cast.carrier, offered.id, f"PICK-{offered.id}", state.now()
        )
    with state.as_of(slot + timedelta(hours=1, minutes=30)):
        await bulky.complete(cast.carrier, appointment.id, "已安装并调试 / Installed and checked")
    for refund in await Refund.filter(trade_in_id=offered.id, state=RefundState.REQUESTED):
        await refunds.confirm_refund(cast.payer, refund.id, True, f"RF{refund.id:08d}")
    progress("  bulky goods: a crib's installation booked, another installed, a trade-in credited")
