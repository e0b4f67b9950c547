"""Monitoring and early warning from live data (QS 6.1.2), tighter under key control (QS 6.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Merchant, MerchantWarning, StaffDuty, WarningLevel, WarningState
from pinzhi.services import monitoring, orders, rules
from tests import factories as f

NOW = datetime.now(UTC)


async def test_a_cancellation_after_payment_raises_a_warning_at_once(db) -> None:
    """QS 6.1.2: crossing the published cancellation threshold warns the merchant on the
    event itself, with indicator, value, threshold, window and level."""
    w = await f.world()
    await f.history(w.buyer, w.shop, 11, paid_at=NOW - timedelta(days=1))
    assert await MerchantWarning.filter(merchant_id=w.shop.id).count() == 0
    placed, _ = await f.paid_order(w)
    await orders.cancel_order(w.buyer.viewer, placed.id, "不想要了")
    warning = await MerchantWarning.get(merchant_id=w.shop.id)
    assert warning.indicator == "cancellation_rate"
    assert warning.value == round(1 / 12, 4)
    assert warning.threshold == 0.025 and warning.window_days == 30
    assert warning.level == WarningLevel.SEVERE  # more than twice the threshold
    assert warning.state == WarningState.OPEN and warning.rule_version == 1


async def test_an_open_warning_is_not_raised_twice(db) -> None:
    w = await f.world()
    await f.history(w.buyer, w.shop, 20, paid_at=NOW - timedelta(days=1), cancelled=True)
    assert await monitoring.check([w.shop.id]) == 1
    assert await monitoring.check([w.shop.id]) == 0
    assert await MerchantWarning.filter(merchant_id=w.shop.id).count() == 1


async def test_too_few_orders_raise_no_warning(db) -> None:
    """The rule's floor: rates over a handful of orders are not a signal."""
    w = await f.world()
    await f.history(w.buyer, w.shop, 5, paid_at=NOW - timedelta(days=1), cancelled=True)
    assert await monitoring.check([w.shop.id]) == 0


async def test_the_monitor_job_catches_what_time_alone_moves(db) -> None:
    """Orders left unshipped past the limit become late with no event to trigger a check."""
    w = await f.world()
    await f.history(w.buyer, w.shop, 12, paid_at=NOW - timedelta(hours=1), shipped_after_hours=None)
    assert await monitoring.check(None, NOW) == 0
    assert await monitoring.check(None, NOW + timedelta(days=3)) == 1
    warning = await MerchantWarning.get(merchant_id=w.shop.id)
    assert (warning.indicator, warning.value) == ("late_shipment_rate", 1.0)


async def test_key_control_tightens_the_thresholds(db) -> None:
    """QS 6.4: a merchant under key control is held to tighter thresholds."""
    content = (await rules.current("merchant.warnings")).content
    normal = monitoring.effective_thresholds(content, under_key_control=False)
    tight = monitoring.effective_thresholds(content, under_key_control=True)
    assert normal["cancellation_rate"] == {"max": 0.025}
    assert tight["cancellation_rate"] == {"max": 0.0125}
    assert tight["valid_tracking_rate"] == {"min": 0.975}

    w = await f.world()
    # 1 cancellation in 50: 2% is under the normal 2.5% but over the tightened 1.25%.
    await f.history(w.buyer, w.shop, 49, paid_at=NOW - timedelta(days=1))
    await f.history(w.buyer, w.shop, 1, paid_at=NOW - timedelta(days=1), cancelled=True)
    assert await monitoring.check([w.shop.id]) == 0
    await Merchant.filter(id=w.shop.id).update(key_control_until=NOW + timedelta(days=30))
    assert await monitoring.check([w.shop.id]) == 1


@pytest.mark.parametrize(
    ("value", "bound", "level"),
    [
        (0.01, {"max": 0.01}, None),
        (0.011, {"max": 0.01}, "WARNING"),
        (0.02, {"max": 0.01}, "SEVERE"),
        (0.95, {"min": 0.95}, None),
        (0.94, {"min": 0.95}, "WARNING"),
        (0.90, {"min": 0.95}, "SEVERE"),
        (None, {"max": 0.01}, None),
    ],
)
def test_crossing_levels(value, bound, level) -> None:
    assert monitoring.crossing(value, bound, 2.0) == level


async def test_staff_acknowledge_a_warning_once(db) -> None:
    w = await f.world()
    await f.history(w.buyer, w.shop, 20, paid_at=NOW - timedelta(days=1), cancelled=True)
    await monitoring.check([w.shop.id])
    warning = await MerchantWarning.get(merchant_id=w.shop.id)
    acknowledged = await monitoring.acknowledge(w.agent.viewer, warning.id)
    assert acknowledged.state == WarningState.ACKNOWLEDGED
    assert acknowledged.acknowledged_by_id == w.agent.account.id
    with pytest.raises(ServiceError) as again:
        await monitoring.acknowledge(w.agent.viewer, warning.id)
    assert again.value.code == ErrorCode.ILLEGAL_TRANSITION
    admin = await f.staff(StaffDuty.ADMIN)
    with pytest.raises(ServiceError) as refused:
        await monitoring.acknowledge(admin.viewer, warning.id)
    assert refused.value.code == ErrorCode.NOT_ELIGIBLE
    # Once acknowledged, a new crossing raises a new warning.
    assert await monitoring.check([w.shop.id]) == 1
