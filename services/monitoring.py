"""Monitoring and early warning from live data (QS 6.1.2).

``check`` recomputes the operation indicators over the rule's window and raises a warning
for each published threshold crossed. It runs right after the events that move an
indicator (so the merchant sees a warning at once) and from the ``monitor`` job for what
time alone moves (an order not shipped in time).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Merchant, MerchantWarning, WarningLevel, WarningState
from pinzhi.services import audit, rules, state
from pinzhi.services.merchant_indicators import operation_counts
from pinzhi.services.state import now as utc_now


def effective_thresholds(
    rule: dict[str, Any], under_key_control: bool
) -> dict[str, dict[str, float]]:
    """Thresholds in force for one merchant: tighter under key control (QS 6.4)."""
    factor = rule["key_control_factor"] if under_key_control else 1.0
    result: dict[str, dict[str, float]] = {}
    for name, bound in rule["thresholds"].items():
        if "max" in bound:
            result[name] = {"max": round(bound["max"] * factor, 6)}
        else:
            result[name] = {"min": round(1 - (1 - bound["min"]) * factor, 6)}
    return result


def crossing(value: float | None, bound: dict[str, float], severe_factor: float) -> str | None:
    """None, WARNING or SEVERE for a value against a max or min threshold."""
    if value is None:
        return None
    if "max" in bound:
        limit = bound["max"]
        if value <= limit:
            return None
        return WarningLevel.SEVERE if value >= limit * severe_factor else WarningLevel.WARNING
    limit = bound["min"]
    if value >= limit:
        return None
    shortfall_limit = round(1 - (1 - limit) * severe_factor, 6)
    return WarningLevel.SEVERE if value <= shortfall_limit else WarningLevel.WARNING


async def check(merchant_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Raise warnings for crossed thresholds; one open warning per merchant and indicator.
    Returns the number of warnings created. A fixed number of statements for any count."""
    now = now or utc_now()
    rule = await rules.current("merchant.warnings")
    grading = await rules.current("merchant.grading")
    content = rule.content
    since = now - timedelta(days=content["window_days"])
    counts = await operation_counts(
        since,
        now,
        grading.content["late_shipment_hours"],
        merchant_ids,
        grading.content["tracking_grace_hours"],
    )
    candidates = [m for m, op in counts.items() if op.orders >= content["min_orders"]]
    if not candidates:
        return 0
    key_control = dict(
        await Merchant.filter(id__in=candidates).values_list("id", "key_control_until")
    )
    open_now = set(
        await MerchantWarning.filter(
            merchant_id__in=candidates, state=WarningState.OPEN
        ).values_list("merchant_id", "indicator")
    )
    created: list[MerchantWarning] = []
    for merchant_id in candidates:
        until = key_control.get(merchant_id)
        thresholds = effective_thresholds(content, until is not None and until > now)
        for indicator, value in counts[merchant_id].rates().items():
            bound = thresholds.get(indicator)
            level = crossing(value, bound, content["severe_factor"]) if bound else None
            if not bound or level is None or (merchant_id, indicator) in open_now:
                continue
            created.append(
                MerchantWarning(
                    merchant_id=merchant_id,
                    indicator=indicator,
                    value=value,
                    threshold=next(iter(bound.values())),
                    window_days=content["window_days"],
                    level=level,
                    rule_version=rule.version,
                )
            )
    if created:
        async with in_transaction():
            for warning in created:
                await warning.save()
                # QS 9.1.2: a warning raised is a traced key node of the warning.
                await audit.append(
                    "MerchantWarning",
                    warning.id,
                    "raised",
                    actor=None,
                    new=True,
                    to_state=str(WarningState.OPEN),
                    data={
                        "merchant_id": warning.merchant_id,
                        "indicator": warning.indicator,
                        "value": warning.value,
                        "level": str(warning.level),
                    },
                )
    return len(created)


async def check_quietly(merchant_id: int) -> None:
    """After an event: a failure to evaluate warnings must not undo the event itself."""
    with suppress(ServiceError):
        await check([merchant_id])


async def acknowledge(viewer: Viewer, warning_id: int) -> MerchantWarning:
    """Staff acknowledge an open warning, once: a traced key node (QS 9.1.2)."""
    require(viewer, Action.ACKNOWLEDGE_WARNING)
    async with in_transaction():
        warning = await MerchantWarning.filter(id=warning_id).select_for_update().first()
        if warning is None:
            raise ServiceError(ErrorCode.NOT_FOUND, ("warningId",))
        if warning.state != WarningState.OPEN:
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("warningId",), "already acknowledged")
        await state.move(
            warning,
            WarningState.ACKNOWLEDGED,
            actor=viewer,
            action="acknowledged",
            field="warningId",
            acknowledged_by_id=viewer.account_id,
            acknowledged_at=utc_now(),
        )
    return warning
