"""What a scale factor means: counts, id layout, the bench viewers and the table columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BENCH_PASSWORD = "pinzhi-bench-2026"
PRODUCTS_PER_MERCHANT = 20
LOGISTICS_PROVIDERS = 4
PAYMENT_PROVIDERS = 3
# Merchants 2..11 sell to the placeOrder scenario: their stock never runs out.
PLACE_ORDER_MERCHANTS = range(2, 12)
UNLIMITED_STOCK = 1_000_000_000

VIEWER_EMAILS = {
    "consumer": "consumer1@bench.pinzhi",
    "merchant": "merchant1@bench.pinzhi",
    "regulator": "regulator@bench.pinzhi",
}

NAMES = ["张三", "李四", "王五", "赵六", "陈静", "刘洋", "杨帆", "黄蕾", "周杰", "吴昊"]
CITIES = ["北京市朝阳区", "上海市浦东新区", "广东省深圳市", "浙江省杭州市", "四川省成都市"]
CATEGORIES = ["food", "mother_baby", "cosmetics", "digital", "home", "apparel", "sports"]
ORDER_STATES = ["PENDING_PAYMENT", "PAID", "SHIPPED", "DELIVERED", "COMPLETED", "CANCELLED"]
ORDER_WEIGHTS = [8, 10, 12, 15, 45, 10]
COMPLAINT_STATES = ["OPEN", "IN_PROGRESS", "PROMISED", "RESOLVED"]
COMPLAINT_WEIGHTS = [20, 20, 20, 40]
COMPLAINT_CATEGORIES = ["QUALITY", "NOT_AS_DESCRIBED", "DELIVERY", "SERVICE", "OTHER"]
COMPLAINT_CATEGORY_WEIGHTS = [25, 20, 25, 15, 15]
# Orders are placed over the last HISTORY_DAYS days (the newest ORDERS_END_DAYS days ago, so
# that even a late one is completed by now): merchant grading's 90-day window holds most.
HISTORY_DAYS = 120
ORDERS_END_DAYS = 8
# The published product.grading rule's key categories and required attributes (QS 7.1).
KEY_CATEGORIES = ("mother_baby", "food", "cosmetics")
ATTRIBUTES = {
    "food": ("origin", "shelf_life", "net_weight"),
    "mother_baby": ("age_range", "material"),
    "cosmetics": ("origin", "shelf_life", "volume"),
}
# Bumped when the generator writes new kinds of rows (bench_meta 'generator').
GENERATOR_VERSION = "2"

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: list[Row]


@dataclass(frozen=True)
class Plan:
    """How many of each thing a scale factor means (fractional scales keep a minimum
    that still fills a 50-row page for every scenario)."""

    scale: float
    merchants: int
    consumers: int
    orders: int
    complaints: int
    feedback: int

    @classmethod
    def for_scale(cls, scale: float) -> Plan:
        if scale <= 0:
            raise ValueError("scale must be positive")
        return cls(
            scale=scale,
            merchants=max(12, round(1000 * scale)),
            consumers=max(50, round(20_000 * scale)),
            orders=max(500, round(100_000 * scale)),
            complaints=max(60, round(5_000 * scale)),
            feedback=max(60, round(20_000 * scale)),
        )

    @property
    def products(self) -> int:
        return self.merchants * PRODUCTS_PER_MERCHANT

    @property
    def first_consumer_id(self) -> int:
        return self.merchants + LOGISTICS_PROVIDERS + PAYMENT_PROVIDERS + 4

    @property
    def staff_ids(self) -> tuple[int, int, int]:
        base = self.merchants + LOGISTICS_PROVIDERS + PAYMENT_PROVIDERS
        return base + 1, base + 2, base + 3  # regulator, customer service, compliance


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


ACCOUNT_COLUMNS = _columns(
    "id email_enc email_hash password_hash role duties merchant_id provider_id name_enc phone_enc"
    " is_active created_at"
)
MERCHANT_COLUMNS = _columns(
    "id name description created_at deposit_required_minor deposit_held_minor"
)
PRODUCT_COLUMNS = _columns(
    "id merchant_id title category price_minor currency stock is_listed created_at rank_score"
    " attributes"
)
ORDER_COLUMNS = _columns(
    "id consumer_id merchant_id state total_minor currency recipient_name_enc"
    " recipient_phone_enc address_enc created_at updated_at paid_at shipped_at delivered_at"
    " completed_at cancelled_at"
)
LINE_COLUMNS = _columns("id order_id product_id quantity unit_price_minor")
PAYMENT_COLUMNS = _columns(
    "id order_id provider_id consumer_id merchant_id state amount_minor currency"
    " idempotency_key provider_reference created_at updated_at"
)
SHIPMENT_COLUMNS = _columns(
    "id order_id provider_id consumer_id merchant_id tracking_number state created_at updated_at"
)
EVENT_COLUMNS = _columns(
    "id shipment_id provider_id external_id status location description occurred_at recorded_at"
)
COMPLAINT_COLUMNS = _columns(
    "id consumer_id merchant_id order_id assignee_id state description resolution delay_reason"
    " promised_by rule_version created_at resolved_at category upheld"
)
FEEDBACK_COLUMNS = _columns(
    "id author_id author_role subject_type subject_id rated_merchant_id consumer_id score"
    " comment created_at"
)
REVIEW_COLUMNS = _columns(
    "id product_id order_id consumer_id rating text praises_quality created_at"
)
# Generated licences and brands are verified records (QS 6.1.1: only those count).
SUBMISSION_COLUMNS = " state evidence review_note"
BRAND_COLUMNS = _columns(
    "id merchant_id brand relation registration_number valid_until created_at" + SUBMISSION_COLUMNS
)
LICENCE_COLUMNS = _columns("id merchant_id kind number valid_until created_at" + SUBMISSION_COLUMNS)
VIOLATION_COLUMNS = _columns(
    "id merchant_id type state opened_by_id decided_by_id penalty decision_note decided_at"
    " created_at"
)
CERTIFICATE_COLUMNS = _columns(
    "id product_id kind agency report_number result issued_at valid_until created_at"
)
