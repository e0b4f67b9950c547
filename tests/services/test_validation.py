"""Shared input checks: lengths, control characters, phone numbers (bad input is refused
with a coded error and never stored as sent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Account, Order
from pinzhi.services import accounts, orders, validation
from pinzhi.services.orders import LineInput, Recipient
from tests import factories as f


@pytest.mark.parametrize(
    "raw", ["13812345678\n", "138\n12345678", "\t13812345678", "1381234567\x00"]
)
def test_a_phone_with_control_characters_is_refused(raw: str) -> None:
    with pytest.raises(ServiceError) as refused:
        validation.phone(raw, "phone")
    assert refused.value.code == ErrorCode.INVALID_INPUT
    assert refused.value.field == ["phone"]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86-138-1234-5678", "+8613812345678"),
    ],
)
def test_phone_separators_are_dropped(raw: str, stored: str) -> None:
    assert validation.phone(raw, "phone") == stored


@pytest.mark.parametrize("raw", ["张\n三", "张三\x00", "张\x1b[31m三", "a\rb"])
def test_one_line_text_refuses_control_characters(raw: str) -> None:
    with pytest.raises(ServiceError) as refused:
        validation.text(raw, "name")
    assert refused.value.code == ErrorCode.INVALID_INPUT


def test_multiline_text_keeps_line_breaks_and_tabs_only() -> None:
    assert (
        validation.text("第一行\r\n第二行\t!", "description", multiline=True) == "第一行\n第二行\t!"
    )
    with pytest.raises(ServiceError):
        validation.text("第一行\x00", "description", multiline=True)


def test_a_nested_field_path_is_kept() -> None:
    with pytest.raises(ServiceError) as refused:
        validation.text("", ("evidence", "0", "description"))
    assert refused.value.field == ["evidence", "0", "description"]


async def test_registration_with_a_trailing_newline_in_the_phone_stores_nothing(db) -> None:
    with pytest.raises(ServiceError) as refused:
        await accounts.register_consumer(
            "nl@test.pinzhi", "long enough password", "王五", "13812345678\n"
        )
    assert refused.value.field == ["phone"]
    assert await accounts.find_by_email("nl@test.pinzhi") is None
    assert await Account.all().count() == 0


async def test_an_order_with_a_newline_in_the_recipient_phone_is_refused(db) -> None:
    w = await f.world()
    recipient = Recipient("张三", "13812345678\n", "北京市朝阳区建国路 88 号")
    with pytest.raises(ServiceError) as refused:
        await orders.place_order(w.buyer.viewer, [LineInput(w.item.id, 1)], recipient)
    assert refused.value.field == ["recipient.phone"]
    assert await Order.all().count() == 0


@pytest.mark.parametrize(
    "value",
    [
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),  # overflows to UTC
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        datetime(1969, 12, 31, tzinfo=UTC),
        datetime(2200, 1, 1, tzinfo=UTC),
        datetime(2030, 1, 1),  # no timezone
    ],
)
def test_times_outside_what_the_platform_can_mean_are_refused(value: datetime) -> None:
    with pytest.raises(ServiceError) as refused:
        validation.moment(value, "validUntil")
    assert refused.value.field == ["validUntil"]


def test_a_time_is_kept_in_utc() -> None:
    local = datetime(2030, 6, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    assert validation.moment(local, "at") == datetime(2030, 6, 1, 0, tzinfo=UTC)
