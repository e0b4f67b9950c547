"""Small factories: each builds the least data a test needs, through the real services."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pinzhi.auth.api_keys import create_api_key
from pinzhi.auth.tokens import issue_access_token
from pinzhi.auth.viewer import Viewer, viewer_of
from pinzhi.models import (
    Account,
    AfterSalesKind,
    AfterSalesRequest,
    AuditEvent,
    Merchant,
    Order,
    Payment,
    Product,
    ProviderKind,
    Refund,
    RefundState,
    Role,
    ServiceProvider,
    Shipment,
    ShipmentState,
    StaffDuty,
)
from pinzhi.schema.base import to_global_id
from pinzhi.services import accounts, after_sales, logistics, orders, payments, refunds
from pinzhi.services.after_sales import LineClaim
from pinzhi.services.orders import LineInput, Recipient

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


@dataclass
class Actor:
    """An account with its viewer and a valid bearer credential."""

    account: Account
    viewer: Viewer
    token: str

    @property
    def gid(self) -> str:
        return to_global_id("Account", self.account.id)

    @property
    def email(self) -> str:
        return accounts.email_of(self.account)


def _viewer(account: Account, kind: ProviderKind | None = None) -> Viewer:
    return viewer_of(account, kind, "jwt")


async def _actor(role: Role, kind: ProviderKind | None = None, **kwargs: object) -> Actor:
    n = next(_seq)
    account = await accounts.create_account(
        f"{role.lower()}{n}@test.pinzhi",
        PASSWORD,
        role,
        **kwargs,  # type: ignore[arg-type]
    )
    token, _ = issue_access_token(account, kind)
    return Actor(account, _viewer(account, kind), token)


async def consumer(name: str = "张三", phone: str = "13812345678") -> Actor:
    return await _actor(Role.CONSUMER, name=name, phone=phone)


async def merchant(name: str | None = None) -> tuple[Merchant, Actor]:
    shop = await Merchant.create(name=name or f"店铺 Shop {next(_seq)}")
    return shop, await _actor(Role.MERCHANT, merchant_id=shop.id)


async def regulator() -> Actor:
    return await _actor(Role.REGULATOR)


async def staff(*duties: StaffDuty) -> Actor:
    duties = duties or (StaffDuty.CUSTOMER_SERVICE,)
    return await _actor(Role.STAFF, duties=",".join(duties))


async def provider(kind: ProviderKind) -> tuple[ServiceProvider, Actor, str]:
    """A provider, its account (JWT) and an API key for it."""
    company = await ServiceProvider.create(name=f"{kind} {next(_seq)}", kind=kind)
    actor = await _actor(Role.SERVICE_PROVIDER, kind, provider_id=company.id)
    _, key = await create_api_key(actor.account, "test")
    return company, actor, key


async def product(shop: Merchant, *, stock: int = 10, price: int = 1000, **kw: object) -> Product:
    return await Product.create(
        merchant_id=shop.id,
        title=kw.pop("title", f"商品 Product {next(_seq)}"),
        category=kw.pop("category", "food"),
        price_minor=price,
        stock=stock,
        **kw,
    )


RECIPIENT = Recipient("张三", "13812345678", "北京市朝阳区建国路 88 号")


async def order(buyer: Actor, item: Product, quantity: int = 1) -> Order:
    placed = await orders.place_order(buyer.viewer, [LineInput(item.id, quantity)], RECIPIENT)
    return placed.order


@dataclass
class World:
    """One order's whole cast: buyer, shop, carriers, payers, staff, regulator."""

    buyer: Actor
    other_buyer: Actor
    shop: Merchant
    seller: Actor
    other_shop: Merchant
    other_seller: Actor
    item: Product
    carrier: ServiceProvider
    carrier_actor: Actor
    carrier_key: str
    other_carrier: ServiceProvider
    other_carrier_key: str
    payer: ServiceProvider
    payer_actor: Actor
    payer_key: str
    other_payer_key: str
    agent: Actor
    regulator: Actor


async def world() -> World:
    shop, seller = await merchant()
    other_shop, other_seller = await merchant()
    carrier, carrier_actor, carrier_key = await provider(ProviderKind.LOGISTICS)
    other_carrier, _, other_carrier_key = await provider(ProviderKind.LOGISTICS)
    payer, payer_actor, payer_key = await provider(ProviderKind.PAYMENT)
    _, _, other_payer_key = await provider(ProviderKind.PAYMENT)
    return World(
        buyer=await consumer(),
        other_buyer=await consumer("李四", "13987654321"),
        shop=shop,
        seller=seller,
        other_shop=other_shop,
        other_seller=other_seller,
        item=await product(shop, stock=100),
        carrier=carrier,
        carrier_actor=carrier_actor,
        carrier_key=carrier_key,
        other_carrier=other_carrier,
        other_carrier_key=other_carrier_key,
        payer=payer,
        payer_actor=payer_actor,
        payer_key=payer_key,
        other_payer_key=other_payer_key,
        agent=await staff(StaffDuty.CUSTOMER_SERVICE),
        regulator=await regulator(),
    )


async def pay(w: World, placed: Order) -> Payment:
    """The buyer pays ``placed`` through the world's payer, which confirms it."""
    payment, _ = await payments.pay_order(
        w.buyer.viewer, placed.id, w.payer.id, f"key-{next(_seq):06d}"
    )
    await payments.confirm_payment(w.payer_actor.viewer, payment.id, True, "REF123")
    return await Payment.get(id=payment.id)


async def ship(w: World, placed: Order) -> tuple[Order, Shipment]:
    shipment = await logistics.ship_order(
        w.seller.viewer, placed.id, w.carrier.id, f"SD{next(_seq):08d}"
    )
    return await Order.get(id=placed.id), shipment


async def deliver(w: World, placed: Order) -> tuple[Order, Shipment]:
    """Ship a paid order with the world's carrier and scan it delivered."""
    _, shipment = await ship(w, placed)
    await logistics.record_tracking_event(
        w.carrier_actor.viewer,
        shipment.id,
        f"EV{next(_seq)}",
        ShipmentState.DELIVERED,
        datetime.now(UTC),
    )
    return await Order.get(id=placed.id), await Shipment.get(id=shipment.id)


async def paid_order(w: World, quantity: int = 1) -> tuple[Order, Payment]:
    placed = await order(w.buyer, w.item, quantity)
    payment = await pay(w, placed)
    return await Order.get(id=placed.id), payment


async def shipped_order(w: World) -> tuple[Order, Shipment]:
    placed, _ = await paid_order(w)
    return await ship(w, placed)


async def delivered_order(w: World) -> tuple[Order, Shipment]:
    placed, _ = await paid_order(w)
    return await deliver(w, placed)


async def provider_actor(company: ServiceProvider) -> Actor:
    """Another account of an existing provider."""
    return await _actor(Role.SERVICE_PROVIDER, company.kind, provider_id=company.id)


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


# --- Added for the role-boundary and masking tests (tests/auth) -----------------------------


async def complaint(buyer: Actor, placed: Order, text: str = "商品与描述不符 / not as described"):
    """A consumer's open complaint about one of its orders."""
    from pinzhi.services import complaints

    return await complaints.file_complaint(buyer.viewer, placed.id, None, text)


async def other_side_order(
    w: World, stage: str = "delivered"
) -> tuple[Order, Payment | None, Shipment | None]:
    """An order wholly outside ``w``'s main cast: the other buyer, the other shop, the other
    payment provider and the other carrier. ``stage``: placed, pending (payment created, not
    confirmed), paid, shipped or delivered."""
    from pinzhi.auth.api_keys import viewer_from_api_key

    stages = ["placed", "pending", "paid", "shipped", "delivered"]
    reach = stages.index(stage)
    item = await product(w.other_shop, stock=50)
    placed = await order(w.other_buyer, item)
    payer = await viewer_from_api_key(w.other_payer_key)
    carrier = await viewer_from_api_key(w.other_carrier_key)
    payment = shipment = None
    if reach >= 1:
        payment, _ = await payments.pay_order(
            w.other_buyer.viewer, placed.id, payer.provider_id, f"key-{next(_seq):06d}"
        )
    if reach >= 2:
        await payments.confirm_payment(payer, payment.id, True, "REF-OTHER")
    if reach >= 3:
        shipment = await logistics.ship_order(
            w.other_seller.viewer, placed.id, w.other_carrier.id, f"SD{next(_seq):08d}"
        )
    if reach >= 4:
        await logistics.record_tracking_event(
            carrier, shipment.id, f"EV{next(_seq)}", ShipmentState.DELIVERED, datetime.now(UTC)
        )
    return (
        await Order.get(id=placed.id),
        await Payment.get(id=payment.id) if payment else None,
        await Shipment.get(id=shipment.id) if shipment else None,
    )


async def feedback(author: Actor, subject: str, subject_id: int | None = None, score: int = 4):
    """A rating through the real service: ``subject`` is a FeedbackSubject value."""
    from pinzhi.models import FeedbackSubject
    from pinzhi.services import feedback as feedback_service

    return await feedback_service.submit_feedback(
        author.viewer, FeedbackSubject(subject), subject_id, score, "评价 / rating"
    )


# --- Added for grading and monitoring (tests/services/test_merchant_grading.py, ...) --------


async def history(
    buyer: Actor,
    shop: Merchant,
    n: int,
    *,
    paid_at: datetime,
    shipped_after_hours: float | None = 2,
    cancelled: bool = False,
) -> list[Order]:
    """``n`` orders of ``shop`` inserted directly, paid at ``paid_at`` and shipped some hours
    later (or never, or cancelled before shipment): history to grade, without walking each
    order through the API."""
    from datetime import timedelta

    from pinzhi.auth.crypto import encrypt
    from pinzhi.models import OrderState

    shipped = (
        None if shipped_after_hours is None else paid_at + timedelta(hours=shipped_after_hours)
    )
    state = (
        OrderState.CANCELLED if cancelled else OrderState.SHIPPED if shipped else OrderState.PAID
    )
    before = set(await Order.filter(merchant_id=shop.id).values_list("id", flat=True))
    await Order.bulk_create(
        [
            Order(
                consumer_id=buyer.account.id,
                merchant_id=shop.id,
                state=state,
                total_minor=1000,
                currency="CNY",
                recipient_name_enc=encrypt("张三"),
                recipient_phone_enc=encrypt("13812345678"),
                address_enc=encrypt("北京市朝阳区建国路 88 号"),
                paid_at=paid_at,
                shipped_at=None if cancelled else shipped,
                cancelled_at=paid_at + timedelta(hours=1) if cancelled else None,
            )
            for _ in range(n)
        ]
    )
    return list(await Order.filter(merchant_id=shop.id, id__not_in=list(before)).order_by("id"))


# --- Added for violation cases, key control and training (QS 6.3, 6.4) ----------------------


async def compliance_officer() -> Actor:
    return await staff(StaffDuty.COMPLIANCE)


async def violation_case(officer: Actor, shop: Merchant, kind: str = "FAKE_ORDERS"):
    """An OPEN case against ``shop``, opened by a compliance officer, with one evidence item."""
    from pinzhi.models import ViolationType
    from pinzhi.services import violations

    evidence = [violations.Evidence("刷单记录截图 order records", "https://evidence.test/1")]
    return await violations.open_case(officer.viewer, shop.id, ViolationType(kind), evidence)


async def decided_case(officer: Actor, shop: Merchant, kind: str = "FAKE_ORDERS"):
    """A case against ``shop`` decided with its ladder step."""
    from pinzhi.services import violations

    case = await violation_case(officer, shop, kind)
    return await violations.decide_case(officer.viewer, case.id, violations.Decision.DECIDED)


# --- Added for the audit anchors (QS 9.1.2) --------------------------------------------------


async def rechain(
    entity_type: str,
    entity_id: int,
    change: Callable[[AuditEvent], None] | None = None,
    *,
    at: datetime | None = None,
) -> list[AuditEvent]:
    """Recompute a whole chain with consistent hashes after ``change``, as a forger would
    (which the anchors exist to catch); with ``at``, stamp event n at ``at`` + n seconds."""
    from datetime import timedelta

    from pinzhi.services import audit

    events = await audit.trail(entity_type, entity_id)
    prev = audit.GENESIS_HASH
    for event in events:
        if at is not None:
            event.occurred_at = at + timedelta(seconds=event.seq)
        if change is not None:
            change(event)
        event.prev_hash = prev
        event.hash = audit.chain_hash(prev, event)
        await event.save()
        prev = event.hash
    return events


async def stamp_trail_in(hour_start: datetime) -> None:
    """Move every chain, intact, into the hour from ``hour_start``: a world built now is
    then one that happened in a known hour."""
    chains = await AuditEvent.all().distinct().values_list("entity_type", "entity_id")
    for entity_type, entity_id in chains:
        await rechain(entity_type, entity_id, at=hour_start)


def far_future() -> datetime:
    from datetime import timedelta

    return datetime.now(UTC) + timedelta(days=3650)


# --- After-sales (QS 9.2.3) ------------------------------------------------------------------


async def after_sales_request(
    buyer: Actor,
    placed: Order,
    kind: AfterSalesKind,
    amount_minor: int,
    *,
    lines: list[LineClaim] | None = None,
    reason: str = "质量问题 / quality problem",
) -> AfterSalesRequest:
    """A request opened through the service, as the consumer would."""
    return await after_sales.open_request(
        buyer.viewer, placed.id, kind, reason, amount_minor=amount_minor, lines=lines
    )


async def confirm_refunds(w: World, succeeded: bool = True) -> list[Refund]:
    """The payment provider reports every refund still asked as done (or failed)."""
    done = []
    for refund in await Refund.filter(state=RefundState.REQUESTED).order_by("id"):
        provider = w.payer_actor if refund.provider_id == w.payer.id else None
        assert provider is not None, "a refund to another provider"
        settled, _ = await refunds.confirm_refund(
            provider.viewer, refund.id, succeeded, f"RF{refund.id}"
        )
        done.append(settled)
    return done


# --- Added for the advance-compensation fund (QS 9.7.6) --------------------------------------


async def fund_admin() -> Actor:
    return await staff(StaffDuty.ADMIN)


async def fund_cash(admin: Actor, amount_minor: int = 1_000_000, key: str | None = None):
    """A platform contribution of ``amount_minor`` to the fund."""
    from pinzhi.models import ContributionSource
    from pinzhi.services.fund import contributions

    transaction, _ = await contributions.contribute(
        admin.viewer,
        amount_minor,
        ContributionSource.PLATFORM,
        None,
        f"BANK-{next(_seq):06d}",
        "注资 contribution",
        key or f"contribution-{next(_seq):06d}",
    )
    return transaction


async def fund_payout(
    agent: Actor,
    complaint_id: int,
    amount_minor: int = 500,
    cause: str = "PRODUCT_QUALITY",
    provider_id: int | None = None,
):
    """A payout about a complaint, approved by customer service; returns the payout."""
    from pinzhi.models import PayoutCause, PayoutSubject
    from pinzhi.services.fund import payouts

    asked = payouts.PayoutRequest(
        PayoutSubject.COMPLAINT, complaint_id, PayoutCause(cause), amount_minor, provider_id
    )
    payout, _ = await payouts.approve_payout(
        agent.viewer, asked, "先行赔付 paid first", f"payout-{next(_seq):06d}"
    )
    return payout


async def with_deposit(officer: Actor, seller: Actor, amount_minor: int = 100_000) -> None:
    """The seller's shop pays ``amount_minor`` into its deposit, verified by ``officer``."""
    from pinzhi.models import DepositPayment
    from pinzhi.services import qualifications
    from pinzhi.services.evidence import Evidence

    slip = [Evidence("银行回单 bank slip")]
    payment = await qualifications.submit_deposit(
        seller.viewer, amount_minor, f"DEP-{next(_seq):06d}", slip
    )
    await qualifications.review(
        officer.viewer, DepositPayment, payment.id, qualifications.Review.VERIFIED
    )


# --- Disputes (QS 9.7.7) ---------------------------------------------------------------------


async def rejected_request(w: World, amount_minor: int = 600) -> AfterSalesRequest:
    """A refund-only request on a delivered order of the buyer's, rejected by the shop."""
    placed, _ = await delivered_order(w)
    request = await after_sales_request(w.buyer, placed, AfterSalesKind.REFUND_ONLY, amount_minor)
    return await after_sales.decide(w.seller.viewer, request.id, False, "不符合条件 / not eligible")


async def refused_complaint(w: World, agent: Actor | None = None):  # type: ignore[no-untyped-def]
    """A complaint about a delivered order of the buyer's, resolved by ``agent`` (the world's
    by default) as not upheld."""
    from pinzhi.services import complaints

    placed, _ = await delivered_order(w)
    filed = await complaint(w.buyer, placed)
    return await complaints.handle_complaint(
        (agent or w.agent).viewer, filed.id, resolution="描述相符 / as described", upheld=False
    )


async def dispute(w: World, request: AfterSalesRequest | None = None):  # type: ignore[no-untyped-def]
    """The buyer disputes a rejected request (a new one unless given)."""
    from pinzhi.services import disputes

    request = request or await rejected_request(w)
    return await disputes.open_dispute(
        w.buyer.viewer, request_id=request.id, reason="商品有质量问题 / faulty goods"
    )


# --- Bulky goods: installation and trade-in (QS 9.7.5) ---------------------------------------

# The bulky_goods rule's default grid: two-hour slots from 08:00 to 20:00 at UTC+8.
LOCAL_OFFSET_HOURS = 8


def slot(after: datetime, days: int = 2, local_hour: int = 10) -> datetime:
    """The start (UTC) of the default grid's slot at ``local_hour`` (UTC+8) on the first
    local day at least ``days`` after ``after`` on which it starts later than that."""
    from datetime import timedelta

    offset = timedelta(hours=LOCAL_OFFSET_HOURS)
    earliest = after + timedelta(days=days)
    local_day = (earliest + offset).replace(hour=0, minute=0, second=0, microsecond=0)
    start = local_day + timedelta(hours=local_hour) - offset
    return start if start >= earliest else start + timedelta(days=1)


async def bulky_product(shop: Merchant, category: str = "furniture", price: int = 300000):
    """A bulky product (by the bulky_goods rule's categories) in stock."""
    return await product(shop, stock=50, price=price, category=category, title=f"大件 {category}")


async def bulky_order(
    w: World, stage: str = "paid", *, category: str = "furniture", price: int = 300000
):
    """The buyer's order of one bulky product, taken to ``stage`` (placed, paid, shipped or
    delivered); returns the order (as it now is) and its line."""
    from pinzhi.models import OrderLine

    item = await bulky_product(w.shop, category, price)
    placed = await order(w.buyer, item)
    if stage != "placed":
        await pay(w, placed)
    if stage == "shipped":
        await ship(w, placed)
    elif stage == "delivered":
        await deliver(w, placed)
    line = await OrderLine.get(order_id=placed.id)
    return await Order.get(id=placed.id), line


async def installation(w: World, line_id: int, start: datetime, note: str = ""):
    """An installation slot booked by the buyer through the service."""
    from pinzhi.services import bulky

    return await bulky.book(w.buyer.viewer, line_id, start, note)


async def trade_in(w: World, line_id: int, condition: str = "WORKING"):
    """A trade-in asked by the buyer through the service."""
    from pinzhi.models import TradeInCondition
    from pinzhi.services import trade_ins

    return await trade_ins.request(
        w.buyer.viewer, line_id, TradeInCondition(condition), "旧沙发 old sofa"
    )


async def deliver_shipped(w: World, placed: Order) -> Order:
    """The world's carrier scans an order it carries delivered."""
    shipment = await Shipment.get(order_id=placed.id)
    await logistics.record_tracking_event(
        w.carrier_actor.viewer,
        shipment.id,
        f"EV{next(_seq)}",
        ShipmentState.DELIVERED,
        datetime.now(UTC),
    )
    return await Order.get(id=placed.id)


# --- After-sales sweep and timeliness (QS 9.2.1, 9.2.3) ----------------------------------------
# Rows inserted through state.create, for the sweep, the timeliness counts and the grades;
# the service's own factory (after_sales_request) walks the real path.


async def after_sales_row(
    placed: Order,
    *,
    kind: str = "RETURN_REFUND",
    opened_at: datetime | None = None,
    quantity: int | None = None,
    first_response_at: datetime | None = None,
):  # type: ignore[no-untyped-def]
    """A request on every line of ``placed`` (``quantity`` of each, default all), opened at
    ``opened_at`` (default now) with the response limit of its kind from the rule in force;
    ``first_response_at`` stamps an answer without moving its state."""
    from datetime import timedelta

    from pinzhi.models import AfterSalesKind, AfterSalesLine, AfterSalesRequest, OrderLine
    from pinzhi.services import rules, state

    rule = await rules.current("after_sales.response")
    opened = opened_at or state.now()
    due = opened + timedelta(hours=rule.content["response_hours"][kind])
    lines = await OrderLine.filter(order_id=placed.id).order_by("id")
    request = await state.create(
        AfterSalesRequest,
        actor=None,
        action="opened",
        data={"order_id": placed.id, "kind": kind},
        order_id=placed.id,
        consumer_id=placed.consumer_id,
        merchant_id=placed.merchant_id,
        kind=AfterSalesKind(kind),
        reason="质量问题 quality",
        amount_minor=0,
        currency=placed.currency,
        response_due_at=due,
        rule_version=rule.version,
        first_response_at=first_response_at,
    )
    await AfterSalesRequest.filter(id=request.id).update(created_at=opened)
    await AfterSalesLine.bulk_create(
        [
            AfterSalesLine(
                request_id=request.id,
                order_line_id=line.id,
                quantity=line.quantity if quantity is None else quantity,
            )
            for line in lines
        ]
    )
    return await AfterSalesRequest.get(id=request.id)


async def after_sales_walk(request, *targets: str, **updates: object):  # type: ignore[no-untyped-def]
    """Move ``request`` through ``targets`` (AfterSalesState values) by state.move, each a
    traced node, as the after-sales service would; ``updates`` go with the first move."""
    from tortoise.transactions import in_transaction

    from pinzhi.models import AfterSalesRequest, AfterSalesState
    from pinzhi.services import state

    for target in targets:
        async with in_transaction():
            row = await AfterSalesRequest.filter(id=request.id).select_for_update().get()
            await state.move(row, AfterSalesState(target), actor=None, action="test", **updates)
        updates = {}
    return await AfterSalesRequest.get(id=request.id)


# --- Staff posts and their qualification (QS 9.3.1-9.3.4) ------------------------------------

STAFF_TOPICS = ("ETIQUETTE", "RIGHTS_HANDLING")


def months_ago(today: date, months: int) -> date:
    """The day ``months`` whole months before ``today`` (its day capped at 28, which only
    shortens the span to exactly ``months``)."""
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, min(today.day, 28))


async def staff_course(admin: Actor, topic: str, pass_mark: int = 60):  # type: ignore[no-untyped-def]
    """The course of ``topic`` (code ``ST-<topic>``), created once."""
    from pinzhi.models import Course, CourseTopic
    from pinzhi.services import training

    code = f"ST-{topic}".replace("_", "-")
    found = await Course.get_or_none(code=code)
    if found is not None:
        return found
    return await training.create_course(
        admin.viewer, code, f"员工培训 Staff training {topic}", CourseTopic(topic), pass_mark
    )


async def staff_trained(admin: Actor, member: Actor, *topics: str, score: int = 90) -> list:  # type: ignore[type-arg]
    """``member`` enrolled in a course of each topic and assessed by ``admin``."""
    from pinzhi.services import training

    done = []
    for topic in topics:
        course = await staff_course(admin, topic)
        enrolment = await training.enrol_staff(member.viewer, course.id)
        done.append(await training.record_assessment(admin.viewer, enrolment.id, score))
    return done


async def qualified_staff(
    admin: Actor,
    *,
    topics: tuple[str, ...] = STAFF_TOPICS,
    months: int | None = 0,
    team: str = "一组 Team 1",
    duties: tuple[StaffDuty, ...] = (StaffDuty.CUSTOMER_SERVICE,),
) -> Actor:
    """A staff member trained in ``topics``, with a profile of ``months`` of experience
    (None: no profile)."""
    from pinzhi.services import staff_posts, state

    member = await staff(*duties)
    await staff_trained(admin, member, *topics)
    if months is not None:
        since = months_ago(state.now().date(), months) if months else None
        await staff_posts.set_profile(admin.viewer, member.account.id, team, since)
    return member


async def on_post(admin: Actor, member: Actor, post: str, *, on_duty: bool = False):  # type: ignore[no-untyped-def]
    from pinzhi.models import Post
    from pinzhi.services import staff_posts

    assignment = await staff_posts.assign_post(admin.viewer, member.account.id, Post(post))
    if on_duty:
        await staff_posts.set_on_duty(member.viewer, True)
    return assignment


async def online_agent(team: str = "一组 Team 1", *, on_duty: bool = True) -> Actor:
    """A customer-service agent fit to take chat sessions (QS 9.3.2): trained, on the
    online-service post, and on duty."""
    admin = await staff(StaffDuty.ADMIN)
    member = await qualified_staff(admin, team=team)
    await on_post(admin, member, "ONLINE_SERVICE", on_duty=on_duty)
    return member
