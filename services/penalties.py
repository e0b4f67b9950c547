"""Penalties that act (QS 6.4): what a decided case does to the merchant's shop, and undoing
it when the penalty's period ends or an appeal overturns it.

- ``LISTING_FREEZE`` delists every listed product of the merchant and blocks new listings
  (``key_control.check_new_listing``) while in force;
- ``SUSPENSION`` does the same and refuses new orders for the merchant's products
  (``check_orders_allowed``);
- ``TRAFFIC_RESTRICTION`` lowers the merchant's products in the default ranking by the
  published ``traffic_restriction_rank_penalty`` of ``violation.penalties`` (QS 7.2 ranking,
  applied on top of the rank score of the product's grade).

A case's effects are recorded on it (``effects``: the products it delisted, the rank
penalty) so that lifting restores exactly what it took, once (``effects_lifted_at``).
Products another penalty in force keeps delisted stay delisted. Every step is traced on
the merchant's chain, and each product's listing change on the product's (QS 9.1.2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from pinzhi.auth.viewer import Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Merchant, Penalty, Product, ViolationCase
from pinzhi.services import audit, bulk, key_control, rules, state
from pinzhi.services.lookup import ids_of
from pinzhi.services.product_grading import RULE_KEY as GRADING_RULE
from pinzhi.services.product_grading import rank_score

DELISTING = frozenset({Penalty.LISTING_FREEZE, Penalty.SUSPENSION})


async def apply(
    actor: Viewer, merchant: Merchant, case: ViolationCase, content: dict[str, Any]
) -> dict[str, Any]:
    """Apply the decided case's penalty to the merchant's shop, inside the decision's
    transaction (the caller holds the merchant's lock). Returns the effects to store; once
    the case is DECIDED with them, the caller reranks the shop (``rerank``)."""
    penalty = Penalty(case.penalty) if case.penalty else None
    effects: dict[str, Any] = {}
    if penalty in DELISTING:
        ids = await ids_of(Product.filter(merchant_id=merchant.id, is_listed=True))
        if ids:
            await Product.filter(id__in=ids).update(is_listed=False)
            await _trace_products(actor, ids, "delisted")
        effects["delisted_product_ids"] = ids
        await audit.append(
            "Merchant",
            merchant.id,
            "listings_frozen" if penalty == Penalty.LISTING_FREEZE else "suspended",
            actor=actor,
            data={"case_id": case.id, "delisted": len(ids)},
        )
    if penalty == Penalty.TRAFFIC_RESTRICTION:
        effects["rank_penalty"] = key_control.rank_penalty(content)
        await audit.append(
            "Merchant",
            merchant.id,
            "traffic_restricted",
            actor=actor,
            data={"case_id": case.id, "rank_penalty": effects["rank_penalty"]},
        )
    return effects


async def lift(actor: Viewer | None, merchant: Merchant, case: ViolationCase, why: str) -> bool:
    """Undo what ``case`` did to the shop, once: relist the products it delisted (unless
    another penalty in force keeps them delisted) and restore the ranking. The caller holds
    the merchant's lock in its transaction. True if anything was lifted."""
    if case.effects_lifted_at is not None or not case.effects:
        return False
    now = state.now()
    relisted: list[int] = []
    delisted = list(case.effects.get("delisted_product_ids", []))
    if delisted:
        holder = await _longest_other_delisting(merchant.id, case.id, now)
        if holder is not None:
            # Another freeze or suspension still holds the shop: it takes these products
            # over, to put back when it ends (it found them delisted already and did not
            # record them itself).
            kept = sorted(set(holder.effects.get("delisted_product_ids", [])) | set(delisted))
            holder.effects = {**holder.effects, "delisted_product_ids": kept}
            await ViolationCase.filter(id=holder.id).update(effects=holder.effects)
        else:
            relisted = await ids_of(
                Product.filter(id__in=delisted, merchant_id=merchant.id, is_listed=False)
            )
            if relisted:
                await Product.filter(id__in=relisted).update(is_listed=True)
                await _trace_products(actor, relisted, "relisted")
    case.effects_lifted_at = now
    await ViolationCase.filter(id=case.id).update(effects_lifted_at=now)
    await audit.append(
        "Merchant",
        merchant.id,
        "penalty_lifted",
        actor=actor,
        data={"case_id": case.id, "why": why, "relisted": len(relisted)},
    )
    await rerank([merchant.id], now, exclude_case=case.id)
    return True


async def _longest_other_delisting(
    merchant_id: int, case_id: int, now: datetime
) -> ViolationCase | None:
    """The merchant's other freeze or suspension in force that ends last, if any."""
    cases = await ViolationCase.filter(
        merchant_id=merchant_id,
        state__in=key_control.STANDING,
        penalty__in=list(DELISTING),
        effects_lifted_at__isnull=True,
    ).exclude(id=case_id)
    contents = await key_control.rule_contents(c.rule_version for c in cases)
    ends = [
        (end, c)
        for c in cases
        if (content := contents.get(c.rule_version or 0))
        and (end := key_control.penalty_end(c, content)) is not None
        and end > now
    ]
    return max(ends, key=lambda pair: (pair[0], pair[1].id))[1] if ends else None


async def _trace_products(actor: Viewer | None, product_ids: list[int], action: str) -> None:
    # A product's trail is as public as the product: it says the platform delisted or
    # relisted it, not for which case (a merchant's sanctions are not public; the case is
    # on the merchant's trail).
    listed = action != "delisted"
    entries = [
        (pid, action, "", "", {"by": "platform", "is_listed": listed}) for pid in product_ids
    ]
    await audit.append_many("Product", entries, actor=actor)


async def rerank(
    merchant_ids: list[int], now: datetime | None = None, exclude_case: int | None = None
) -> None:
    """Recompute the rank score of the merchants' products from their stored grade and the
    restriction in force (QS 7.2), in one batched write."""
    penalties = await key_control.rank_penalties(merchant_ids, now, exclude_case)
    content = (await rules.current(GRADING_RULE)).content
    products = await Product.filter(merchant_id__in=merchant_ids).only(
        "id", "merchant_id", "grade_level", "grade_score", "rank_score"
    )
    changed = []
    for product in products:
        base = (
            rank_score(product.grade_level, product.grade_score or 0.0, content)
            if product.grade_level
            else 0.0
        )
        value = round(base - penalties.get(product.merchant_id, 0.0), 2)
        if value != product.rank_score:
            product.rank_score = value
            changed.append(product)
    await bulk.update_fields(Product, changed, ["rank_score"])


async def check_orders_allowed(merchant_id: int, field: str = "lines") -> None:
    """Refuse new orders for a merchant whose SUSPENSION is in force (QS 6.4)."""
    if not await ViolationCase.filter(
        merchant_id=merchant_id,
        state__in=key_control.STANDING,
        penalty=Penalty.SUSPENSION,
        effects_lifted_at__isnull=True,
    ).exists():
        return
    in_force = (await key_control.penalties_in_force([merchant_id])).get(merchant_id, set())
    if Penalty.SUSPENSION in in_force:
        raise ServiceError(ErrorCode.MERCHANT_SUSPENDED, (field,))


async def sweep(now: datetime | None = None) -> int:
    """Lift the effects of every penalty whose period has ended (the ``penalties`` job).
    Returns the number of cases lifted; running it again lifts nothing more."""
    now = now or state.now()
    cases = await ViolationCase.filter(
        state__in=key_control.STANDING,
        penalty__isnull=False,
        effects_lifted_at__isnull=True,
    ).order_by("id")
    contents = await key_control.rule_contents(c.rule_version for c in cases)
    due = [
        c
        for c in cases
        if c.effects
        and (content := contents.get(c.rule_version or 0))
        and (end := key_control.penalty_end(c, content)) is not None
        and end <= now
    ]
    lifted = 0
    for found in due:
        async with in_transaction():
            merchant = await Merchant.filter(id=found.merchant_id).select_for_update().get()
            case = await ViolationCase.filter(id=found.id).select_for_update().get()
            lifted += await lift(None, merchant, case, "period ended")
    return lifted
