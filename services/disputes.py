"""Online quality disputes, settled first (QS 9.7.7).

**Subject.** A consumer disputes one of two things about an order of theirs: an after-sales
request that was rejected (REJECTED, or CLOSED after the rejection, which its trail shows),
or a complaint about the order resolved as not upheld. Those are the refusals a consumer
may contest; a request still under way or a complaint still being handled has its own
limits (QS 9.2.3, 9.2.4), and an upheld complaint was already found in the consumer's
favour. A complaint about a merchant with no order has nothing to settle on and is not
disputable. A subject has at most one dispute that was not withdrawn (``DISPUTE_EXISTS``).

**Settle first.** The dispute opens with a settlement period from the ``dispute.settlement``
rule in force (``settle_hours``; the version is stored and governs the dispute's limits).
During it either party offers terms: money back (``refund_minor``), a replacement,
compensation (``compensation_minor``), or a mix. Each party has one live offer: a new one
supersedes its last. Accepting the other party's live offer settles the dispute on its
terms (SETTLED); declining answers it. Offers and answers are taken while the period runs
(``state.now() <= settle_by``), never after (``SETTLEMENT_PERIOD_OVER``), and never on a
closed dispute (``DISPUTE_CLOSED``), and a refused call changes nothing.

**Arbitration.** After ``settle_by`` the dispute goes to ARBITRATION: by the
``dispute-sweep`` job (``sweep``, a compare-and-set per dispute, so two runs at once move
each dispute once), by either party asking, or by the arbitrator taking it up. Before
``settle_by`` a party's request is recorded and only the other party's asking too starts
arbitration early; a party asking again is refused ``SETTLEMENT_PERIOD_OPEN``. Live offers
lapse (SUPERSEDED) when the settlement ends. Customer-service staff arbitrate, the duty
that works the after-sales and complaint queues the subjects come from and that reads
them and their orders; never the agent whose rejection or resolution is disputed
(``NOT_ELIGIBLE``). The decision names refund, replacement and compensation (any of them
zero or false: the merchant's refusal stands) and a reason.

**Carrying out the outcome** (in the transaction of the settlement or decision, once: the
dispute's move is a compare-and-set, and the refunds are keyed by the dispute):

- ``refund_minor`` is asked of the payment provider on the order's payment
  (``refunds.ask``, key ``dispute:<id>:refund``); above what is still refundable the
  acceptance or decision is refused ``AMOUNT_NOT_REFUNDABLE`` and nothing changes.
- ``compensation_minor`` is paid as a second refund on the same payment (key
  ``dispute:<id>:compensation``) when the payment can still take all of it after the
  refund. Otherwise the whole compensation is owed by the advance-compensation fund
  (QS 9.7.6): ``Dispute.fund_payout_due_minor`` holds it. A decided dispute (SETTLED or
  ARBITRATED) with ``fund_payout_due_minor > 0`` is the fund's work to pick up: it pays the
  consumer that amount and recovers it from the merchant.
- a replacement is the merchant's to send: ``ship_replacement`` records its carrier and
  tracking number on the dispute.

Every step is a traced key node on the dispute's trail (its offers have trails of their
own). Both parties read the dispute, customer service and compliance staff and regulators
read all disputes (``auth/scopes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from pinzhi.auth.policy import Action, require
from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import (
    AfterSalesRequest,
    AfterSalesState,
    AuditEvent,
    Complaint,
    ComplaintState,
    Dispute,
    DisputeOffer,
    DisputeParty,
    DisputeState,
    OfferState,
    Order,
    Payment,
    PaymentState,
    PlatformRule,
    ProviderKind,
    Role,
    ServiceProvider,
)
from pinzhi.services import audit, refunds, rules, state, validation
from pinzhi.services.lookup import get_visible, ids_of, lock_visible
from pinzhi.services.transactions import retry_on_conflict

S = DisputeState
RULE_KEY = "dispute.settlement"
# Still being worked on: settlement or arbitration.
LIVE = frozenset({S.OPEN, S.ARBITRATION})
# Decided: the outcome is set and carried out.
DECIDED = frozenset({S.SETTLED, S.ARBITRATED})
NOTE_MAX_LENGTH = 1000


@dataclass(frozen=True)
class Terms:
    """What an offer proposes or an arbitrator awards, in minor units."""

    refund_minor: int = 0
    replacement: bool = False
    compensation_minor: int = 0

    def data(self) -> dict[str, Any]:
        return {
            "refund_minor": self.refund_minor,
            "replacement": self.replacement,
            "compensation_minor": self.compensation_minor,
        }

    @property
    def empty(self) -> bool:
        return self.refund_minor == 0 and not self.replacement and self.compensation_minor == 0


@dataclass(frozen=True)
class Answered:
    """An offer answered, and its dispute; ``replayed`` when it had been accepted before."""

    dispute: Dispute
    offer: DisputeOffer
    replayed: bool = False


def settle_by(opened_at: datetime, content: dict[str, Any]) -> datetime:
    """QS 9.7.7: the end of the settlement period, in calendar hours from opening."""
    return opened_at + timedelta(hours=content["settle_hours"])


async def _rule_content(dispute: Dispute) -> dict[str, Any]:
    """The rule version the dispute is held to."""
    rule = await PlatformRule.get_or_none(key=RULE_KEY, version=dispute.rule_version)
    if rule is None:
        raise ServiceError(ErrorCode.RULE_MISSING, (), RULE_KEY)
    content: dict[str, Any] = rule.content
    return content


def _party(viewer: Viewer) -> DisputeParty:
    if viewer.role == Role.CONSUMER:
        return DisputeParty.CONSUMER
    if viewer.role == Role.MERCHANT:
        return DisputeParty.MERCHANT
    raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("disputeId",), "not a party")


async def _captured(order_id: int) -> Payment | None:
    return await Payment.filter(
        order_id=order_id, state__in=(PaymentState.SUCCEEDED, PaymentState.REFUNDED)
    ).first()


def _check_terms(
    terms: Terms, order: Order, payment: Payment | None, content: dict[str, Any]
) -> None:
    """Amounts are whole minor units, not negative; money back never above what the order's
    payment can still refund; compensation within the rule's multiple of the order total."""
    for field, amount in (
        ("refundMinor", terms.refund_minor),
        ("compensationMinor", terms.compensation_minor),
    ):
        if amount < 0:
            raise ServiceError(ErrorCode.INVALID_INPUT, (field,), "not negative")
    refundable = 0 if payment is None else refunds.refundable(payment)
    if terms.refund_minor > refundable:
        raise ServiceError(ErrorCode.AMOUNT_NOT_REFUNDABLE, ("refundMinor",))
    if terms.compensation_minor > order.total_minor * content["compensation_max_order_multiple"]:
        raise ServiceError(ErrorCode.COMPENSATION_ABOVE_LIMIT, ("compensationMinor",))


async def _lock(viewer: Viewer, dispute_id: int) -> tuple[Dispute, Order]:
    """The dispute, row-locked after its order (the order every service locks in)."""
    seen = await get_visible(viewer, Dispute, dispute_id, "disputeId")
    order = await Order.filter(id=seen.order_id).select_for_update().get()
    return await lock_visible(viewer, Dispute, dispute_id, "disputeId"), order


def _refuse_closed(dispute: Dispute, field: str = "disputeId") -> None:
    if dispute.state not in LIVE:
        raise ServiceError(ErrorCode.DISPUTE_CLOSED, (field,), str(dispute.state))


def _refuse_outside_settlement(dispute: Dispute, field: str = "disputeId") -> None:
    """Offers and their answers: only on an OPEN dispute inside its settlement period."""
    _refuse_closed(dispute, field)
    if dispute.state != S.OPEN or state.now() > dispute.settle_by:
        raise ServiceError(ErrorCode.SETTLEMENT_PERIOD_OVER, (field,))


async def _lapse_offers(actor: Viewer | None, dispute: Dispute, action: str) -> None:
    """The settlement ended: every live offer is overtaken."""
    live = DisputeOffer.filter(dispute_id=dispute.id, state=OfferState.PROPOSED).order_by("id")
    for offer in await live.select_for_update():
        await state.move(offer, OfferState.SUPERSEDED, actor=actor, action=action)


# --- Opening -------------------------------------------------------------------------------


async def _rejected(request: AfterSalesRequest) -> bool:
    """A request the merchant or staff rejected: REJECTED, or CLOSED from there."""
    if request.state == AfterSalesState.REJECTED:
        return True
    return (
        request.state == AfterSalesState.CLOSED
        and await AuditEvent.filter(
            entity_type="AfterSalesRequest",
            entity_id=request.id,
            to_state=str(AfterSalesState.REJECTED),
        ).exists()
    )


@retry_on_conflict
async def open_dispute(
    viewer: Viewer,
    *,
    request_id: int | None = None,
    complaint_id: int | None = None,
    reason: str,
    description: str = "",
) -> Dispute:
    """QS 9.7.7: the consumer disputes a rejected after-sales request or a complaint about
    an order that was not upheld; the settlement period runs from now."""
    require(viewer, Action.OPEN_DISPUTE)
    if (request_id is None) == (complaint_id is None):
        raise ServiceError(ErrorCode.INVALID_INPUT, ("requestId",), "a request or a complaint")
    reason = validation.text(reason, "reason", min_len=2, max_len=200)
    description = validation.text(
        description, "description", min_len=0, max_len=2000, multiline=True
    )
    rule = await rules.current(RULE_KEY)
    if request_id is not None:
        seen_request = await get_visible(viewer, AfterSalesRequest, request_id, "requestId")
        order_id: int | None = seen_request.order_id
    else:
        seen_complaint = await get_visible(viewer, Complaint, complaint_id, "complaintId")
        order_id = seen_complaint.order_id
        if order_id is None:
            raise ServiceError(ErrorCode.NOT_DISPUTABLE, ("complaintId",), "about no order")
    async with in_transaction():
        # The order's lock serialises the disputes on its subjects: two at once open one.
        order = await lock_visible(viewer, Order, order_id or 0, "orderId")
        if request_id is not None:
            request = await lock_visible(viewer, AfterSalesRequest, request_id, "requestId")
            if not await _rejected(request):
                raise ServiceError(ErrorCode.NOT_DISPUTABLE, ("requestId",), str(request.state))
            subject: dict[str, Any] = {"request_id": request.id}
            field = "requestId"
        else:
            complaint = await lock_visible(viewer, Complaint, complaint_id or 0, "complaintId")
            if complaint.state != ComplaintState.RESOLVED or complaint.upheld is not False:
                raise ServiceError(ErrorCode.NOT_DISPUTABLE, ("complaintId",), "not refused")
            subject = {"complaint_id": complaint.id}
            field = "complaintId"
        if await Dispute.filter(**subject).exclude(state=S.WITHDRAWN).exists():
            raise ServiceError(ErrorCode.DISPUTE_EXISTS, (field,))
        due = settle_by(state.now(), rule.content)
        dispute = await state.create(
            Dispute,
            actor=viewer,
            action="opened",
            data={
                **subject,
                "order_id": order.id,
                "reason": reason,
                "settle_by": due.isoformat(),
                "rule_version": rule.version,
            },
            order_id=order.id,
            consumer_id=order.consumer_id,
            merchant_id=order.merchant_id,
            reason=reason,
            description=description,
            currency=order.currency,
            settle_by=due,
            rule_version=rule.version,
            **subject,
        )
    return dispute


# --- Settlement offers ---------------------------------------------------------------------


@retry_on_conflict
async def make_offer(
    viewer: Viewer, dispute_id: int, terms: Terms, note: str = ""
) -> tuple[Dispute, DisputeOffer]:
    """QS 9.7.7: a party proposes terms; its previous live offer is superseded."""
    require(viewer, Action.MAKE_DISPUTE_OFFER)
    text = validation.text(note, "note", min_len=0, max_len=NOTE_MAX_LENGTH, multiline=True)
    if terms.empty:
        raise ServiceError(ErrorCode.INVALID_INPUT, ("refundMinor",), "offer something")
    async with in_transaction():
        dispute, order = await _lock(viewer, dispute_id)
        _refuse_outside_settlement(dispute)
        party = _party(viewer)
        content = await _rule_content(dispute)
        made = await DisputeOffer.filter(dispute_id=dispute.id, party=party).count()
        if made >= content["max_offers_per_party"]:
            raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("disputeId",), "offer limit reached")
        _check_terms(terms, order, await _captured(order.id), content)
        earlier = DisputeOffer.filter(dispute_id=dispute.id, party=party, state=OfferState.PROPOSED)
        for old in await earlier.select_for_update():
            await state.move(old, OfferState.SUPERSEDED, actor=viewer, action="superseded")
        offer = await state.create(
            DisputeOffer,
            actor=viewer,
            action="proposed",
            data={"dispute_id": dispute.id, "party": str(party), **terms.data(), "note": text},
            dispute_id=dispute.id,
            consumer_id=dispute.consumer_id,
            merchant_id=dispute.merchant_id,
            party=party,
            author_id=viewer.account_id,
            refund_minor=terms.refund_minor,
            replacement=terms.replacement,
            compensation_minor=terms.compensation_minor,
            currency=dispute.currency,
            note=text,
        )
        await audit.append(
            "Dispute",
            dispute.id,
            "offer_made",
            actor=viewer,
            data={"offer_id": offer.id, "party": str(party), **terms.data()},
        )
    return dispute, offer


async def _lock_offer(
    viewer: Viewer, offer_id: int
) -> tuple[Dispute, Order, DisputeOffer, DisputeParty]:
    seen = await get_visible(viewer, DisputeOffer, offer_id, "offerId")
    dispute, order = await _lock(viewer, seen.dispute_id)
    offer = await DisputeOffer.filter(id=seen.id).select_for_update().get()
    party = _party(viewer)
    if offer.party == party:
        raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("offerId",), "one's own offer")
    return dispute, order, offer, party


@retry_on_conflict
async def accept_offer(viewer: Viewer, offer_id: int, note: str = "") -> Answered:
    """QS 9.7.7 (先行和解): accepting the other party's live offer settles the dispute on its
    terms, and carries them out. Accepting it again answers with the settlement as it is."""
    require(viewer, Action.ACCEPT_DISPUTE_OFFER)
    text = validation.text(note, "note", min_len=0, max_len=NOTE_MAX_LENGTH, multiline=True)
    async with in_transaction():
        dispute, order, offer, party = await _lock_offer(viewer, offer_id)
        if offer.state == OfferState.ACCEPTED:
            return Answered(dispute, offer, replayed=True)
        _refuse_outside_settlement(dispute, "offerId")
        if offer.state != OfferState.PROPOSED:
            raise ServiceError(ErrorCode.OFFER_NOT_LIVE, ("offerId",), str(offer.state))
        now = state.now()
        await state.move(
            offer,
            OfferState.ACCEPTED,
            actor=viewer,
            action="accepted",
            field="offerId",
            data={"note": text},
            answered_at=now,
            answer_note=text,
        )
        await _lapse_offers(viewer, dispute, "lapsed")
        terms = Terms(offer.refund_minor, offer.replacement, offer.compensation_minor)
        await state.move(
            dispute,
            S.SETTLED,
            actor=viewer,
            action="settled",
            field="offerId",
            data={"offer_id": offer.id, "accepted_by": str(party), **terms.data()},
            outcome_refund_minor=terms.refund_minor,
            outcome_replacement=terms.replacement,
            outcome_compensation_minor=terms.compensation_minor,
            outcome_note=offer.note,
            closed_at=now,
        )
        await _carry_out(viewer, dispute, order, terms)
    return Answered(dispute, offer)


@retry_on_conflict
async def decline_offer(viewer: Viewer, offer_id: int, note: str = "") -> Answered:
    """The other party's live offer is declined; the settlement goes on."""
    require(viewer, Action.DECLINE_DISPUTE_OFFER)
    text = validation.text(note, "note", min_len=0, max_len=NOTE_MAX_LENGTH, multiline=True)
    async with in_transaction():
        dispute, _, offer, party = await _lock_offer(viewer, offer_id)
        _refuse_outside_settlement(dispute, "offerId")
        if offer.state != OfferState.PROPOSED:
            raise ServiceError(ErrorCode.OFFER_NOT_LIVE, ("offerId",), str(offer.state))
        await state.move(
            offer,
            OfferState.DECLINED,
            actor=viewer,
            action="declined",
            field="offerId",
            data={"note": text},
            answered_at=state.now(),
            answer_note=text,
        )
        await audit.append(
            "Dispute",
            dispute.id,
            "offer_declined",
            actor=viewer,
            data={"offer_id": offer.id, "declined_by": str(party)},
        )
    return Answered(dispute, offer)


# --- Withdrawal and arbitration ------------------------------------------------------------


@retry_on_conflict
async def withdraw(viewer: Viewer, dispute_id: int) -> Dispute:
    """The consumer withdraws a dispute not yet decided."""
    require(viewer, Action.WITHDRAW_DISPUTE)
    async with in_transaction():
        dispute, _ = await _lock(viewer, dispute_id)
        _refuse_closed(dispute)
        await state.move(
            dispute,
            S.WITHDRAWN,
            actor=viewer,
            action="withdrawn",
            field="disputeId",
            closed_at=state.now(),
        )
        await _lapse_offers(viewer, dispute, "lapsed")
    return dispute


async def _to_arbitration(
    actor: Viewer | None,
    dispute: Dispute,
    action: str,
    data: dict[str, Any],
    now: datetime | None = None,
) -> None:
    now = now or state.now()
    await state.move(
        dispute,
        S.ARBITRATION,
        actor=actor,
        action=action,
        field="disputeId",
        data={**data, "settle_by": dispute.settle_by.isoformat()},
        arbitration_started_at=now,
    )
    await _lapse_offers(actor, dispute, "lapsed")


@retry_on_conflict
async def request_arbitration(viewer: Viewer, dispute_id: int, reason: str) -> Dispute:
    """A party asks the platform to arbitrate: at once after ``settle_by``; before it, the
    request is recorded and arbitration starts when the other party asks too."""
    require(viewer, Action.REQUEST_DISPUTE_ARBITRATION)
    text = validation.text(reason, "reason", min_len=2, max_len=NOTE_MAX_LENGTH, multiline=True)
    async with in_transaction():
        dispute, _ = await _lock(viewer, dispute_id)
        _refuse_closed(dispute)
        if dispute.state == S.ARBITRATION:
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("disputeId",), "in arbitration")
        party = _party(viewer)
        now = state.now()
        data = {"party": str(party), "reason": text}
        if now > dispute.settle_by:
            await _to_arbitration(viewer, dispute, "arbitration_requested", data)
        elif dispute.arbitration_asked_by not in (None, party):
            await _to_arbitration(viewer, dispute, "arbitration_agreed", data)
        elif dispute.arbitration_asked_by == party:
            raise ServiceError(ErrorCode.SETTLEMENT_PERIOD_OPEN, ("disputeId",), "asked already")
        else:
            asked = {"arbitration_asked_by": party, "arbitration_asked_at": now}
            await Dispute.filter(id=dispute.id).update(updated_at=now, **asked)
            for name, value in asked.items():
                setattr(dispute, name, value)
            await audit.append("Dispute", dispute.id, "arbitration_asked", actor=viewer, data=data)
    return dispute


async def _deciders(dispute: Dispute) -> set[int]:
    """The staff whose rejection or resolution the dispute contests."""
    if dispute.request_id is not None:
        entity, entity_id, target = "AfterSalesRequest", dispute.request_id, "REJECTED"
    else:
        entity, entity_id, target = "Complaint", dispute.complaint_id or 0, "RESOLVED"
    events = AuditEvent.filter(entity_type=entity, entity_id=entity_id, to_state=target)
    return {pk for pk in await ids_of(events, "actor_id") if pk is not None}


@retry_on_conflict
async def arbitrate(viewer: Viewer, dispute_id: int, terms: Terms, reason: str) -> Dispute:
    """QS 9.7.7: customer-service staff decide a dispute the parties did not settle, with
    the reason; the decision is carried out at once. A dispute whose settlement period
    ended but that the sweep has not moved yet is taken into arbitration first."""
    require(viewer, Action.ARBITRATE_DISPUTE)
    text = validation.text(reason, "reason", min_len=2, max_len=2000, multiline=True)
    async with in_transaction():
        dispute, order = await _lock(viewer, dispute_id)
        _refuse_closed(dispute)
        if dispute.state == S.OPEN:
            if state.now() <= dispute.settle_by:
                raise ServiceError(ErrorCode.SETTLEMENT_PERIOD_OPEN, ("disputeId",))
            await _to_arbitration(viewer, dispute, "settlement_lapsed", {})
        if viewer.account_id in await _deciders(dispute):
            raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("disputeId",), "decided the subject")
        _check_terms(terms, order, await _captured(order.id), await _rule_content(dispute))
        await state.move(
            dispute,
            S.ARBITRATED,
            actor=viewer,
            action="arbitrated",
            field="disputeId",
            data={**terms.data(), "reason": text},
            arbitrator_id=viewer.account_id,
            outcome_refund_minor=terms.refund_minor,
            outcome_replacement=terms.replacement,
            outcome_compensation_minor=terms.compensation_minor,
            outcome_note=text,
            closed_at=state.now(),
        )
        await _carry_out(viewer, dispute, order, terms)
    return dispute


# --- Carrying the outcome out --------------------------------------------------------------


async def _carry_out(actor: Viewer | None, dispute: Dispute, order: Order, terms: Terms) -> None:
    """Inside the transaction that decided ``dispute`` (a compare-and-set move, so this runs
    once per dispute; the refunds' keys make even a second run ask nothing more)."""
    if terms.refund_minor == 0 and terms.compensation_minor == 0:
        done: dict[str, Any] = {}
    else:
        payment = await refunds.lock_payment(order.id)
        done = {}
        if terms.refund_minor > 0:
            if payment is None or refunds.refundable(payment) < terms.refund_minor:
                raise ServiceError(ErrorCode.AMOUNT_NOT_REFUNDABLE, ("refundMinor",))
            asked = await refunds.ask(
                payment,
                terms.refund_minor,
                key=f"dispute:{dispute.id}:refund",
                actor=actor,
                reason=f"dispute {dispute.id}: refund",
                request_id=dispute.request_id,
            )
            done["refund_id"] = asked.refund.id
        if terms.compensation_minor > 0:
            if payment is not None and refunds.refundable(payment) >= terms.compensation_minor:
                asked = await refunds.ask(
                    payment,
                    terms.compensation_minor,
                    key=f"dispute:{dispute.id}:compensation",
                    actor=actor,
                    reason=f"dispute {dispute.id}: compensation",
                    request_id=dispute.request_id,
                )
                done["compensation_refund_id"] = asked.refund.id
            else:
                done["fund_payout_due_minor"] = terms.compensation_minor
    if done:
        await Dispute.filter(id=dispute.id).update(**done)
        for name, value in done.items():
            setattr(dispute, name, value)
    await audit.append(
        "Dispute",
        dispute.id,
        "outcome_carried_out",
        actor=actor,
        data={**done, "replacement_due": terms.replacement},
    )


async def _logistics(provider_id: int | None) -> ServiceProvider:
    provider = None if provider_id is None else await ServiceProvider.get_or_none(id=provider_id)
    if provider is None:
        raise ServiceError(ErrorCode.NOT_FOUND, ("providerId",))
    if provider.kind != ProviderKind.LOGISTICS:
        raise ServiceError(ErrorCode.WRONG_PROVIDER_KIND, ("providerId",))
    return provider


@retry_on_conflict
async def ship_replacement(
    viewer: Viewer, dispute_id: int, provider_id: int | None, tracking_number: str
) -> Dispute:
    """The merchant sends the replacement a settlement or decision awarded, once."""
    require(viewer, Action.SHIP_DISPUTE_REPLACEMENT)
    number = validation.tracking_number(tracking_number)
    provider = await _logistics(provider_id)
    async with in_transaction():
        dispute, _ = await _lock(viewer, dispute_id)
        if dispute.state not in DECIDED:
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("disputeId",), str(dispute.state))
        if not dispute.outcome_replacement:
            raise ServiceError(ErrorCode.NOT_ELIGIBLE, ("disputeId",), "no replacement awarded")
        if dispute.replacement_shipped_at is not None:
            raise ServiceError(ErrorCode.ILLEGAL_TRANSITION, ("disputeId",), "already sent")
        now = state.now()
        sent = {
            "replacement_provider_id": provider.id,
            "replacement_tracking_number": number,
            "replacement_shipped_at": now,
        }
        await Dispute.filter(id=dispute.id).update(updated_at=now, **sent)
        for name, value in sent.items():
            setattr(dispute, name, value)
        await audit.append(
            "Dispute",
            dispute.id,
            "replacement_shipped",
            actor=viewer,
            data={"provider_id": provider.id, "tracking_number": number},
        )
    return dispute


# --- The sweep -----------------------------------------------------------------------------


async def sweep(now: datetime | None = None) -> int:
    """The ``dispute-sweep`` job: every OPEN dispute whose settlement period has ended goes
    to arbitration. Returns how many moved; running it again (or two at once) moves each
    dispute once: each move re-reads its dispute under lock and is a compare-and-set."""
    now = now or state.now()
    due = (
        await Dispute.filter(state=S.OPEN, settle_by__lt=now).order_by("id").only("id", "order_id")
    )
    moved = 0
    for found in due:
        try:
            async with in_transaction():
                await Order.filter(id=found.order_id).select_for_update().first()
                dispute = await Dispute.filter(id=found.id).select_for_update().get()
                if dispute.state != S.OPEN or dispute.settle_by >= now:
                    continue
                await _to_arbitration(None, dispute, "settlement_lapsed", {}, now)
                moved += 1
        except ServiceError as error:
            if error.code != ErrorCode.ILLEGAL_TRANSITION:
                raise
            # Another run, or a party, moved it first.
    return moved
