"""The demo world: every role, and orders walked through the real service process.

Everything is created through the same service functions the API uses, so the demo's
orders carry real audit trails. Seeding is idempotent: a second run finds the world and
only re-derives the credentials.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypedDict, Unpack

from pinzhi.auth.api_keys import KEY_PREFIX, store_api_key
from pinzhi.auth.viewer import Viewer, viewer_of
from pinzhi.models import (
    Account,
    ApiKey,
    ComplaintCategory,
    FeedbackSubject,
    Merchant,
    Product,
    ProviderKind,
    Refund,
    RefundState,
    Role,
    ServiceProvider,
    ShipmentState,
    StaffDuty,
)
from pinzhi.services import (
    accounts,
    complaints,
    demo_after_sales,
    demo_bulky,
    demo_chat,
    demo_disputes,
    demo_fund,
    demo_governance,
    demo_phone,
    demo_staff,
    feedback,
    logistics,
    orders,
    payments,
    refunds,
    rules,
)
from pinzhi.services.orders import LineInput, Recipient
from pinzhi.services.state import now
from pinzhi.settings import get_settings

DEMO_PASSWORD = "pinzhi-demo-2026"

PROVIDERS = [
    ("速达物流 Swift Logistics", ProviderKind.LOGISTICS, "logistics@demo.pinzhi"),
    ("安心支付 SafePay", ProviderKind.PAYMENT, "payment@demo.pinzhi"),
]

MERCHANTS = [
    (
        "青禾母婴 Qinghe Baby",
        "merchant1@demo.pinzhi",
        [
            ("有机婴儿米粉 Organic baby rice cereal", "mother_baby", 6800, 120),
            ("婴儿湿巾 80 抽 Baby wipes x80", "mother_baby", 1590, 500),
            ("防胀气奶瓶 Anti-colic bottle", "mother_baby", 12900, 60),
        ],
    ),
    (
        "山泉食品 Mountain Spring Foods",
        "merchant2@demo.pinzhi",
        [
            ("高山绿茶 250g Highland green tea", "food", 8800, 200),
            ("五常大米 5kg Wuchang rice", "food", 7900, 150),
            ("手工挂面 Hand-made noodles", "food", 2500, 300),
        ],
    ),
    (
        "雅致美妆 Elegant Beauty",
        "merchant3@demo.pinzhi",
        [
            ("保湿面霜 Moisturising cream", "cosmetics", 15900, 80),
            ("防晒乳 SPF50 Sunscreen", "cosmetics", 9900, 90),
        ],
    ),
]

CONSUMERS = [
    ("consumer1@demo.pinzhi", "张三", "13812345678", "北京市朝阳区建国路 88 号 1 单元 101"),
    ("consumer2@demo.pinzhi", "李四", "13987654321", "上海市浦东新区世纪大道 100 号 2 楼"),
]

STAFF = [
    ("regulator@demo.pinzhi", Role.REGULATOR, ""),
    ("service@demo.pinzhi", Role.STAFF, StaffDuty.CUSTOMER_SERVICE),
    ("compliance@demo.pinzhi", Role.STAFF, f"{StaffDuty.COMPLIANCE},{StaffDuty.ADMIN}"),
]


@dataclass
class Credentials:
    accounts: list[dict[str, str]] = field(default_factory=list)
    api_keys: list[dict[str, str]] = field(default_factory=list)


def demo_api_key(provider_name: str) -> tuple[str, str, str]:
    """A demo key derived from the token secret, so every run shows the same working key
    without storing it. Returns (prefix, secret, full key)."""
    digest = hmac.new(
        get_settings().token_secret.encode(), f"demo-key:{provider_name}".encode(), hashlib.sha256
    ).hexdigest()
    prefix, secret = digest[:12], digest[12:]
    return prefix, secret, f"{KEY_PREFIX}{prefix}_{secret}"


def _viewer(account: Account, kind: ProviderKind | None = None) -> Viewer:
    return viewer_of(account, kind, "demo")


class _AccountDetails(TypedDict, total=False):
    """The optional details accounts.create_account takes."""

    name: str
    phone: str
    duties: str
    merchant_id: int | None
    provider_id: int | None


async def _account(email: str, role: Role, **kwargs: Unpack[_AccountDetails]) -> Account:
    existing = await accounts.find_by_email(email)
    if existing is not None:
        return existing
    return await accounts.create_account(email, DEMO_PASSWORD, role, **kwargs)


async def seed(progress: Callable[[str], None] = print) -> Credentials:
    creds = Credentials()
    await rules.ensure_defaults()
    already = await Merchant.filter(name=MERCHANTS[0][0]).exists()

    providers: dict[ProviderKind, tuple[ServiceProvider, Account]] = {}
    for name, kind, email in PROVIDERS:
        provider, _ = await ServiceProvider.get_or_create(name=name, defaults={"kind": kind})
        account = await _account(email, Role.SERVICE_PROVIDER, provider_id=provider.id)
        providers[kind] = (provider, account)
        prefix, secret, full = demo_api_key(name)
        if not await ApiKey.filter(prefix=prefix).exists():
            await store_api_key(account, prefix, secret, "demo")
        creds.accounts.append(
            {"role": "SERVICE_PROVIDER", "email": email, "password": DEMO_PASSWORD}
        )
        creds.api_keys.append({"role": "SERVICE_PROVIDER", "kind": str(kind), "key": full})
    progress(f"  providers: {len(providers)}")

    merchant_viewers: list[Viewer] = []
    products: list[list[Product]] = []
    for name, email, items in MERCHANTS:
        merchant, _ = await Merchant.get_or_create(name=name)
        account = await _account(email, Role.MERCHANT, merchant_id=merchant.id)
        merchant_viewers.append(_viewer(account))
        shelf = []
        for title, category, price, stock in items:
            product, _ = await Product.get_or_create(
                merchant_id=merchant.id,
                title=title,
                defaults={"category": category, "price_minor": price, "stock": stock},
            )
            shelf.append(product)
        products.append(shelf)
        creds.accounts.append({"role": "MERCHANT", "email": email, "password": DEMO_PASSWORD})
    progress(f"  merchants: {len(MERCHANTS)}, products: {sum(len(s) for s in products)}")

    consumer_viewers = []
    recipients = []
    for email, name, phone, address in CONSUMERS:
        account = await _account(email, Role.CONSUMER, name=name, phone=phone)
        consumer_viewers.append(_viewer(account))
        recipients.append(Recipient(name, phone, address))
        creds.accounts.append({"role": "CONSUMER", "email": email, "password": DEMO_PASSWORD})

    staff_viewers: dict[str, Viewer] = {}
    for email, role, duties in STAFF:
        account = await _account(email, role, duties=str(duties), name="平台员工")
        staff_viewers[email] = _viewer(account)
        creds.accounts.append({"role": str(role), "email": email, "password": DEMO_PASSWORD})
    # Staff posts and their qualification (QS 9.3.1-9.3.4): the customer-service agents.
    agent_viewers: list[Viewer] = []
    for email, name, *_ in demo_staff.AGENTS:
        account = await _account(email, Role.STAFF, duties=demo_staff.DUTIES, name=name)
        agent_viewers.append(_viewer(account))
        creds.accounts.append({"role": str(Role.STAFF), "email": email, "password": DEMO_PASSWORD})
    progress(f"  accounts: {len(creds.accounts)}")

    if already:
        await _phone_queue(creds, progress)  # its credentials: the calls are there
        progress("  demo world already present: nothing added")
        return creds

    logistics_viewer = _viewer(providers[ProviderKind.LOGISTICS][1], ProviderKind.LOGISTICS)
    payment_viewer = _viewer(providers[ProviderKind.PAYMENT][1], ProviderKind.PAYMENT)
    carrier = providers[ProviderKind.LOGISTICS][0]
    payer = providers[ProviderKind.PAYMENT][0]
    agent = staff_viewers["service@demo.pinzhi"]
    counter = 0

    async def walk(
        consumer_index: int, merchant_index: int, stage: str, product_id: int | None = None
    ) -> int:
        """Place an order (of ``product_id``, else the shelf's next product) and take it as
        far as ``stage`` through the real transitions."""
        nonlocal counter
        counter += 1
        consumer = consumer_viewers[consumer_index]
        shelf = products[merchant_index]
        chosen = product_id or shelf[counter % len(shelf)].id
        lines = [LineInput(chosen, 1 + counter % 3)]
        order = (await orders.place_order(consumer, lines, recipients[consumer_index])).order
        if stage == "PENDING_PAYMENT":
            return order.id
        if stage == "CANCELLED":
            await orders.cancel_order(consumer, order.id, "买错了 / ordered by mistake")
            return order.id
        payment, _ = await payments.pay_order(
            consumer, order.id, payer.id, f"demo-pay-{counter:04d}"
        )
        await payments.confirm_payment(payment_viewer, payment.id, True, f"SP{counter:08d}")
        if stage == "PAID":
            return order.id
        if stage == "REFUNDED":
            await orders.cancel_order(consumer, order.id, "缺货 / out of stock")
            # The payment provider executes the cancellation's refund.
            for refund in await Refund.filter(order_id=order.id, state=RefundState.REQUESTED):
                await refunds.confirm_refund(payment_viewer, refund.id, True, f"RF{refund.id}")
            return order.id
        merchant = merchant_viewers[merchant_index]
        shipment = await logistics.ship_order(merchant, order.id, carrier.id, f"SD{counter:010d}")
        base = now() - timedelta(hours=30)
        steps = [(ShipmentState.IN_TRANSIT, "杭州转运中心 Hangzhou hub")]
        if stage in ("DELIVERED", "COMPLETED"):
            steps += [
                (ShipmentState.OUT_FOR_DELIVERY, "派送中 Out for delivery"),
                (ShipmentState.DELIVERED, "已签收 Delivered"),
            ]
        for i, (status, where) in enumerate(steps):
            await logistics.record_tracking_event(
                logistics_viewer,
                shipment.id,
                f"EV-{counter}-{i}",
                status,
                base + timedelta(hours=6 * i),
                where,
            )
        if stage == "COMPLETED":
            await orders.confirm_receipt(consumer, order.id)
        return order.id

    stages = ["PENDING_PAYMENT", "PAID", "SHIPPED", "DELIVERED", "COMPLETED", "CANCELLED"]
    completed: list[tuple[int, int, int]] = []
    for ci in range(len(consumer_viewers)):
        for mi in range(len(merchant_viewers)):
            for stage in stages:
                order_id = await walk(ci, mi, stage)
                if stage == "COMPLETED":
                    completed.append((ci, mi, order_id))
    progress(f"  orders: {counter} across every state, with payments, shipments and tracking")

    # Complaints: one resolved on the spot, one with a promise, one still open.
    # About the food shop (two) and the beauty shop (one): the baby shop keeps a clean record.
    (c0, _, o0), (c1, _, o1), (c2, m2, _) = completed[4], completed[1], completed[-1]
    first = await complaints.file_complaint(
        consumer_viewers[c0],
        o0,
        None,
        "包装破损，商品有划痕 / Damaged packaging, scratched item",
        ComplaintCategory.QUALITY,
    )
    await complaints.handle_complaint(
        agent,
        first.id,
        resolution="已补发新品并致歉 / Replacement sent with apologies",
        upheld=True,
    )
    second = await complaints.file_complaint(
        consumer_viewers[c1],
        o1,
        None,
        "发票信息有误 / Wrong invoice details",
        ComplaintCategory.SERVICE,
    )
    await complaints.take_complaint(agent, second.id)
    await complaints.handle_complaint(
        agent,
        second.id,
        delay_reason="需商家重新开具发票 / The merchant must reissue the invoice",
        promised_by=now() + timedelta(days=3),
    )
    await complaints.file_complaint(
        consumer_viewers[c2],
        None,
        merchant_viewers[m2].merchant_id,
        "客服回复慢 / Slow replies",
        ComplaintCategory.SERVICE,
    )
    progress("  complaints: 3 (resolved, promised, open)")

    # Feedback from every kind of party (QS 10.2).
    for ci, mi, order_id in completed:
        consumer = consumer_viewers[ci]
        score = 5 - ((ci + mi) % 3)
        await feedback.submit_feedback(consumer, FeedbackSubject.ORDER, order_id, score, "")
        await feedback.submit_feedback(
            consumer, FeedbackSubject.MERCHANT, merchant_viewers[mi].merchant_id, score, ""
        )
    await feedback.submit_feedback(
        consumer_viewers[c0], FeedbackSubject.SERVICE_CASE, first.id, 4, "处理及时 / Prompt"
    )
    for viewer in [*merchant_viewers, logistics_viewer, payment_viewer]:
        await feedback.submit_feedback(viewer, FeedbackSubject.PLATFORM, None, 4, "")
    progress("  feedback: from consumers, merchants and service providers")

    # Enough history for grades that are not provisional (QS 6.1.1): the baby shop keeps
    # a clean record; the food shop cancels paid orders, which raises a warning (QS 6.1.2).
    history: dict[int, list[int]] = {0: [], 1: []}
    for i in range(16):
        history[0].append(await walk(i % 2, 0, "COMPLETED"))
        history[1].append(await walk(i % 2, 1, "COMPLETED" if i < 13 else "REFUNDED"))
    progress(f"  history: {counter} orders in all")
    walked = [(ci, mi, o) for ci, mi, o in completed] + [
        (i % 2, mi, o) for mi, ids in history.items() for i, o in enumerate(ids)
    ]
    await demo_governance.seed(
        demo_governance.Cast(
            consumers=consumer_viewers,
            merchants=merchant_viewers,
            products=products,
            compliance=staff_viewers["compliance@demo.pinzhi"],
            completed=walked,
        ),
        progress,
    )
    # Quality disputes (QS 9.7.7): one settled first, one arbitrated.
    await demo_disputes.seed(
        demo_disputes.Cast(
            consumers=consumer_viewers,
            merchants=merchant_viewers,
            agent=agent,
            payment=payment_viewer,
            completed=walked,
        ),
        progress,
    )
    await demo_after_sales.seed(
        demo_after_sales.Cast(
            walk=walk,
            consumers=consumer_viewers,
            merchants=merchant_viewers,
            agent=agent,
            carrier=logistics_viewer,
            carrier_id=carrier.id,
            payer=payment_viewer,
        ),
        progress,
    )
    # The advance-compensation fund (QS 9.7.6): the upheld quality complaint is paid first
    # and recovered from the merchant's deposit.
    await demo_fund.seed_demo(
        admin=staff_viewers["compliance@demo.pinzhi"],
        agent=agent,
        compliance=staff_viewers["compliance@demo.pinzhi"],
        complaint_id=first.id,
        contributor_merchant_id=merchant_viewers[0].merchant_id,
        progress=progress,
    )
    await demo_bulky.seed(
        demo_bulky.Cast(
            walk=walk,
            consumers=consumer_viewers,
            merchants=merchant_viewers,
            carrier=logistics_viewer,
            carrier_id=carrier.id,
            payer=payment_viewer,
        ),
        progress,
    )
    # The phone queue (QS 9.2.2): a contact centre and yesterday's calls.
    await _phone_queue(creds, progress)
    # Staff posts and their qualification (QS 9.3.1-9.3.4): the agents trained and on their
    # posts. It returns them (demo_staff.StaffCast): a demo after it that needs agents on
    # ONLINE_SERVICE takes ``.online`` (and ``.on_duty``).
    cast = await demo_staff.seed_staff_posts(
        admin=staff_viewers["compliance@demo.pinzhi"],
        agents=agent_viewers,
        senior=agent,
        progress=progress,
    )
    # Customer-service chat (QS 9.2.2, 9.7.2): AI only, handed over, breached, waiting;
    # worked by the agents on the online-service post.
    await demo_chat.seed(consumer_viewers, cast.online, progress)
    return creds


async def _phone_queue(creds: Credentials, progress: Callable[[str], None]) -> None:
    setup = demo_phone.Setup(DEMO_PASSWORD, demo_api_key)
    await demo_phone.seed_phone_queue(setup, progress)
    creds.accounts += setup.accounts
    creds.api_keys += setup.api_keys
