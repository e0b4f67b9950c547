"""Online quality disputes: settle first, then arbitration (QS 9.7.7)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from pinzhi import models
from pinzhi.auth import policy
from pinzhi.auth.policy import Action
from pinzhi.resolvers.lists import id_filter, scoped_page
from pinzhi.resolvers.pagination import Window
from pinzhi.schema.base import Connection, UserError, attempt, pk_or_missing
from pinzhi.schema.disputes import Dispute, DisputeOffer
from pinzhi.schema.enums import DisputeState
from pinzhi.schema.fields import field, mutation
from pinzhi.services import disputes
from pinzhi.services.disputes import Answered, Terms

# --- Inputs and payloads -------------------------------------------------------------------


@strawberry.input(description="Dispute a rejected after-sales request or a complaint.")
class OpenDisputeInput:
    reason: str = strawberry.field(description="2-200 characters.")
    request_id: strawberry.ID | None = strawberry.field(
        default=None, description="A rejected after-sales request of one's own."
    )
    complaint_id: strawberry.ID | None = strawberry.field(
        default=None, description="A complaint of one's own about an order, not upheld."
    )
    description: str = ""


@strawberry.input(description="Terms offered: any mix of money back, replacement, compensation.")
class MakeDisputeOfferInput:
    dispute_id: strawberry.ID
    refund_minor: int = strawberry.field(
        default=0, description="Money back in fen: at most what the payment can still refund."
    )
    replacement: bool = False
    compensation_minor: int = strawberry.field(
        default=0,
        description="In fen: at most the rule's multiple of the order total; paid as a refund "
        "when the payment can take it, else by the advance-compensation fund.",
    )
    note: str = ""


@strawberry.input
class AnswerDisputeOfferInput:
    offer_id: strawberry.ID
    note: str = ""


@strawberry.input
class WithdrawDisputeInput:
    dispute_id: strawberry.ID


@strawberry.input
class RequestDisputeArbitrationInput:
    dispute_id: strawberry.ID
    reason: str


@strawberry.input(description="The arbitrator's decision; all zero upholds the refusal.")
class ArbitrateDisputeInput:
    dispute_id: strawberry.ID
    reason: str = strawberry.field(description="Why: 2-2000 characters.")
    refund_minor: int = 0
    replacement: bool = False
    compensation_minor: int = 0


@strawberry.input
class ShipDisputeReplacementInput:
    dispute_id: strawberry.ID
    provider_id: strawberry.ID
    tracking_number: str


@strawberry.type
class DisputePayload:
    dispute: Dispute | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DisputeOfferPayload:
    offer: DisputeOffer | None = None
    dispute: Dispute | None = None
    replayed: bool = strawberry.field(
        default=False, description="True when the offer had been accepted before: no change."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


# --- Lists ---------------------------------------------------------------------------------


async def dispute_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    state: DisputeState | None = None,
    order_id: strawberry.ID | None = None,
) -> Connection[Dispute]:
    found = await scoped_page(
        info.context.viewer,
        models.Dispute,
        Window(first, after, last, before),
        state=state,
        order_id=id_filter(order_id, "Order"),
    )
    return Connection.of(found, [Dispute.from_row(r) for r in found.rows])


# --- Mutations -----------------------------------------------------------------------------


def _dispute_pk(dispute_id: strawberry.ID) -> int:
    return pk_or_missing(dispute_id, "Dispute")


def _payload(row: models.Dispute | None, errors: list[UserError]) -> DisputePayload:
    return DisputePayload(dispute=Dispute.from_row(row) if row else None, errors=errors)


def _offer_payload(
    dispute: models.Dispute | None,
    offer: models.DisputeOffer | None,
    errors: list[UserError],
    replayed: bool = False,
) -> DisputeOfferPayload:
    return DisputeOfferPayload(
        offer=DisputeOffer.from_row(offer) if offer else None,
        dispute=Dispute.from_row(dispute) if dispute else None,
        replayed=replayed,
        errors=errors,
    )


async def open_dispute(info: Info, input: OpenDisputeInput) -> DisputePayload:
    request_pk = (
        None if input.request_id is None else pk_or_missing(input.request_id, "AfterSalesRequest")
    )
    complaint_pk = (
        None if input.complaint_id is None else pk_or_missing(input.complaint_id, "Complaint")
    )
    row, errors = await attempt(
        info,
        disputes.open_dispute(
            info.context.viewer,
            request_id=request_pk,
            complaint_id=complaint_pk,
            reason=input.reason,
            description=input.description,
        ),
    )
    return _payload(row, errors)


async def make_dispute_offer(info: Info, input: MakeDisputeOfferInput) -> DisputeOfferPayload:
    terms = Terms(input.refund_minor, input.replacement, input.compensation_minor)
    made, errors = await attempt(
        info,
        disputes.make_offer(info.context.viewer, _dispute_pk(input.dispute_id), terms, input.note),
    )
    if made is None:
        return _offer_payload(None, None, errors)
    return _offer_payload(*made, errors)


def _answered(answered: Answered | None, errors: list[UserError]) -> DisputeOfferPayload:
    if answered is None:
        return _offer_payload(None, None, errors)
    return _offer_payload(answered.dispute, answered.offer, errors, answered.replayed)


async def accept_dispute_offer(info: Info, input: AnswerDisputeOfferInput) -> DisputeOfferPayload:
    answered, errors = await attempt(
        info,
        disputes.accept_offer(
            info.context.viewer, pk_or_missing(input.offer_id, "DisputeOffer"), input.note
        ),
    )
    return _answered(answered, errors)


async def decline_dispute_offer(info: Info, input: AnswerDisputeOfferInput) -> DisputeOfferPayload:
    answered, errors = await attempt(
        info,
        disputes.decline_offer(
            info.context.viewer, pk_or_missing(input.offer_id, "DisputeOffer"), input.note
        ),
    )
    return _answered(answered, errors)


async def withdraw_dispute(info: Info, input: WithdrawDisputeInput) -> DisputePayload:
    row, errors = await attempt(
        info, disputes.withdraw(info.context.viewer, _dispute_pk(input.dispute_id))
    )
    return _payload(row, errors)


async def request_dispute_arbitration(
    info: Info, input: RequestDisputeArbitrationInput
) -> DisputePayload:
    row, errors = await attempt(
        info,
        disputes.request_arbitration(
            info.context.viewer, _dispute_pk(input.dispute_id), input.reason
        ),
    )
    return _payload(row, errors)


async def arbitrate_dispute(info: Info, input: ArbitrateDisputeInput) -> DisputePayload:
    terms = Terms(input.refund_minor, input.replacement, input.compensation_minor)
    row, errors = await attempt(
        info,
        disputes.arbitrate(info.context.viewer, _dispute_pk(input.dispute_id), terms, input.reason),
    )
    return _payload(row, errors)


async def ship_dispute_replacement(
    info: Info, input: ShipDisputeReplacementInput
) -> DisputePayload:
    row, errors = await attempt(
        info,
        disputes.ship_replacement(
            info.context.viewer,
            _dispute_pk(input.dispute_id),
            pk_or_missing(input.provider_id, "ServiceProvider"),
            input.tracking_number,
        ),
    )
    return _payload(row, errors)


@strawberry.type
class DisputeQuery:
    disputes = field(
        dispute_list,
        policy.READERS,
        description="Quality disputes in the viewer's scope, newest first (QS 9.7.7).",
    )


@strawberry.type
class DisputeMutation:
    open_dispute = mutation(
        open_dispute,
        Action.OPEN_DISPUTE,
        description="Dispute a rejected after-sales request or a complaint about an order that "
        "was not upheld; the settlement period of the dispute.settlement rule runs from now.",
    )
    make_dispute_offer = mutation(
        make_dispute_offer,
        Action.MAKE_DISPUTE_OFFER,
        description="Offer settlement terms while the settlement period runs; one's previous "
        "live offer is superseded.",
    )
    accept_dispute_offer = mutation(
        accept_dispute_offer,
        Action.ACCEPT_DISPUTE_OFFER,
        description="Accept the other party's live offer (先行和解): the dispute is settled and "
        "its terms carried out once.",
    )
    decline_dispute_offer = mutation(decline_dispute_offer, Action.DECLINE_DISPUTE_OFFER)
    withdraw_dispute = mutation(withdraw_dispute, Action.WITHDRAW_DISPUTE)
    request_dispute_arbitration = mutation(
        request_dispute_arbitration,
        Action.REQUEST_DISPUTE_ARBITRATION,
        description="Ask the platform to arbitrate: at once after settleBy; before it, when "
        "the other party has asked too.",
    )
    arbitrate_dispute = mutation(
        arbitrate_dispute,
        Action.ARBITRATE_DISPUTE,
        description="Decide a dispute the parties did not settle, with the reason; the "
        "decision is carried out at once.",
    )
    ship_dispute_replacement = mutation(
        ship_dispute_replacement,
        Action.SHIP_DISPUTE_REPLACEMENT,
        description="Record the replacement a settlement or decision awarded as sent.",
    )
