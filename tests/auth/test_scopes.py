"""Row scoping through the API: every role reads only its own rows (architecture decision 2).

Each test tries to cross a boundary of ``auth/scopes.py`` from the outside, through the
GraphQL API: lists, ``node(id)``, nested edges and the audit trail. A foreign row must behave
exactly like a missing one (QS 9.4.1: order information is not leaked).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pinzhi.models import AuditEvent, Complaint, Feedback, Order, Payment, Shipment, StaffDuty
from tests import factories as f

LISTS = """
query {
  orders(first: 100) { nodes { id } }
  payments(first: 100) { nodes { id } }
  shipments(first: 100) { nodes { id } }
  complaints(first: 100) { nodes { id } }
  feedback(first: 100) { nodes { id } }
}"""
NODE = "query($id: ID!) { node(id: $id) { id __typename } }"
TRAIL = """
query($id: ID!) {
  auditTrail(entityId: $id) { seq action }
  verifyAuditTrail(entityId: $id) { valid checked }
}"""
MISSING_PK = 999_999


@dataclass
class Scene:
    """Two disjoint casts: ``w``'s main buyer/shop/carrier/payer and the other side."""

    w: f.World
    order: Order
    pending: Order
    payment: Payment
    shipment: Shipment
    complaint: Complaint
    other_order: Order
    other_payment: Payment
    other_shipment: Shipment
    other_complaint: Complaint
    fb_buyer: Feedback
    fb_other_buyer: Feedback
    fb_seller: Feedback
    fb_other_seller: Feedback
    fb_carrier: Feedback
    fb_payer: Feedback

    def token(self, who: str) -> str | None:
        return {
            "anonymous": None,
            "consumer": self.w.buyer.token,
            "merchant": self.w.seller.token,
            "logistics": self.w.carrier_key,
            "logistics_jwt": self.w.carrier_actor.token,
            "payment": self.w.payer_key,
            "payment_jwt": self.w.payer_actor.token,
            "regulator": self.w.regulator.token,
            "staff": self.w.agent.token,
        }[who]


async def build_scene() -> Scene:
    w = await f.world()
    order, shipment = await f.delivered_order(w)
    payment = await Payment.get(order_id=order.id)
    pending = await f.order(w.buyer, w.item)
    other_order, other_payment, other_shipment = await f.other_side_order(w)
    return Scene(
        w=w,
        order=order,
        pending=pending,
        payment=payment,
        shipment=shipment,
        complaint=await f.complaint(w.buyer, order),
        other_order=other_order,
        other_payment=other_payment,
        other_shipment=other_shipment,
        other_complaint=await f.complaint(w.other_buyer, other_order),
        fb_buyer=await f.feedback(w.buyer, "ORDER", order.id, 5),
        fb_other_buyer=await f.feedback(w.other_buyer, "ORDER", other_order.id, 2),
        fb_seller=await f.feedback(w.seller, "PLATFORM"),
        fb_other_seller=await f.feedback(w.other_seller, "PLATFORM"),
        fb_carrier=await f.feedback(w.carrier_actor, "PLATFORM"),
        fb_payer=await f.feedback(w.payer_actor, "PLATFORM"),
    )


@pytest.fixture
async def scene(db) -> Scene:
    return await build_scene()


def gids(type_name: str, *rows) -> set[str]:
    return {f.gid(type_name, r.id) for r in rows}


async def listed(api, token: str | None) -> dict[str, set[str]]:
    data = (await api(LISTS, token=token)).data
    return {name: {n["id"] for n in conn["nodes"]} for name, conn in data.items()}


# --- Lists -----------------------------------------------------------------------------------


async def test_consumer_lists_only_own_orders_payments_shipments_complaints_feedback(
    api, scene: Scene
) -> None:
    """QS 9.4.1: a consumer sees its own orders and nothing of another consumer's."""
    s = scene
    assert await listed(api, s.token("consumer")) == {
        "orders": gids("Order", s.order, s.pending),
        "payments": gids("Payment", s.payment),
        "shipments": gids("Shipment", s.shipment),
        "complaints": gids("Complaint", s.complaint),
        "feedback": gids("Feedback", s.fb_buyer),
    }


async def test_merchant_lists_only_its_shops_rows_and_feedback_about_it(api, scene: Scene) -> None:
    """QS 9.4.1, QS 10.2: a merchant sees its shop's orders and the ratings it received or
    wrote, never another shop's."""
    s = scene
    assert await listed(api, s.token("merchant")) == {
        "orders": gids("Order", s.order, s.pending),
        "payments": gids("Payment", s.payment),
        "shipments": gids("Shipment", s.shipment),
        "complaints": gids("Complaint", s.complaint),
        "feedback": gids("Feedback", s.fb_buyer, s.fb_seller),
    }


@pytest.mark.parametrize("credential", ["logistics", "logistics_jwt"])
async def test_logistics_provider_lists_only_assigned_shipments_no_orders_or_payments(
    api, scene: Scene, credential: str
) -> None:
    """QS 9.6.2: a carrier reads the shipments assigned to it, by API key or by login alike;
    orders, payments and complaints are outside its scope."""
    s = scene
    assert await listed(api, s.token(credential)) == {
        "orders": set(),
        "payments": set(),
        "shipments": gids("Shipment", s.shipment),
        "complaints": set(),
        "feedback": gids("Feedback", s.fb_carrier),
    }


@pytest.mark.parametrize("credential", ["payment", "payment_jwt"])
async def test_payment_provider_lists_only_its_payments_and_no_shipments(
    api, scene: Scene, credential: str
) -> None:
    """QS 9.5: a payment provider reads its own payments only, no orders or shipments."""
    s = scene
    assert await listed(api, s.token(credential)) == {
        "orders": set(),
        "payments": gids("Payment", s.payment),
        "shipments": set(),
        "complaints": set(),
        "feedback": gids("Feedback", s.fb_payer),
    }


async def test_regulators_list_everything(api, scene: Scene) -> None:
    """Decision 2, QS 10.2: regulators read every row (read-only, masked)."""
    s = scene
    everything = {
        "orders": gids("Order", s.order, s.pending, s.other_order),
        "payments": gids("Payment", s.payment, s.other_payment),
        "shipments": gids("Shipment", s.shipment, s.other_shipment),
        "complaints": gids("Complaint", s.complaint, s.other_complaint),
        "feedback": gids(
            "Feedback",
            s.fb_buyer,
            s.fb_other_buyer,
            s.fb_seller,
            s.fb_other_seller,
            s.fb_carrier,
            s.fb_payer,
        ),
    }
    assert await listed(api, s.token("regulator")) == everything
    # The database holds nothing more than what they were shown.
    assert await Order.all().count() == 3
    assert await Feedback.all().count() == 6


async def test_customer_service_reads_the_complaints_and_the_orders_complained_about(
    api, scene: Scene
) -> None:
    """QS 9.3.1, 9.4.1 (least privilege): customer-service staff read the complaint queue
    and, of orders, only those complained about, with their payments and shipments; of
    feedback only ratings of service cases (none here). The order nobody complained about
    (``pending``) is out of their sight."""
    s = scene
    assert await listed(api, s.token("staff")) == {
        "orders": gids("Order", s.order, s.other_order),
        "payments": gids("Payment", s.payment, s.other_payment),
        "shipments": gids("Shipment", s.shipment, s.other_shipment),
        "complaints": gids("Complaint", s.complaint, s.other_complaint),
        "feedback": set(),
    }
    from pinzhi.services import complaints

    await complaints.handle_complaint(
        s.w.agent.viewer, s.complaint.id, resolution="已处理 handled", upheld=True
    )
    rating = await f.feedback(s.w.buyer, "SERVICE_CASE", s.complaint.id)
    assert (await listed(api, s.token("staff")))["feedback"] == gids("Feedback", rating)


async def test_compliance_reads_the_orders_of_merchants_under_a_case_and_all_feedback(
    api, scene: Scene
) -> None:
    """QS 6.4, 9.4.1: compliance staff read the orders (payments, shipments, complaints) of
    merchants they have a violation case against, and satisfaction feedback, a grading
    input; nothing of a merchant without a case."""
    s = scene
    officer = await f.compliance_officer()
    before = await listed(api, officer.token)
    assert before["orders"] == before["payments"] == before["complaints"] == set()
    assert len(before["feedback"]) == 6
    await f.violation_case(officer, s.w.shop)
    after = await listed(api, officer.token)
    assert after["orders"] == gids("Order", s.order, s.pending)
    assert after["payments"] == gids("Payment", s.payment)
    assert after["shipments"] == gids("Shipment", s.shipment)
    assert after["complaints"] == gids("Complaint", s.complaint)


@pytest.mark.parametrize("duties", [(StaffDuty.ADMIN,), ()])
async def test_admin_staff_and_staff_without_a_duty_read_nothing_private(
    api, scene: Scene, duties: tuple[StaffDuty, ...]
) -> None:
    """QS 9.4.1: the admin duty works rules and courses; a staff member with no duty at all
    reads nothing private: every scoped list is empty."""
    from pinzhi.models import Role
    from pinzhi.services import accounts

    if duties:
        token = (await f.staff(*duties)).token
    else:
        account = await accounts.create_account("noduty@test.pinzhi", f.PASSWORD, Role.STAFF)
        from pinzhi.auth.tokens import issue_access_token

        token, _ = issue_access_token(account)
    empty = {name: set() for name in ("orders", "payments", "shipments", "complaints", "feedback")}
    assert await listed(api, token) == empty
    me = (await api("{ me { id } merchantWarnings { nodes { id } } }", token=token)).data
    assert me["me"]["id"] and me["merchantWarnings"]["nodes"] == []


@pytest.mark.parametrize(
    "query",
    [
        "{ orders { nodes { id } } }",
        "{ payments { nodes { id } } }",
        "{ shipments { nodes { id } } }",
        "{ complaints { nodes { id } } }",
        "{ feedback { nodes { id } } }",
        "{ feedbackSummary(subjectType: ORDER) { count } }",
        '{ verifyAuditPeriod(period: "2026-12-01T18") { valid } }',
        "{ auditAnchors { nodes { hash } } }",
        "{ piiAccessLog { nodes { id } } }",
        "{ apiKeys { id } }",
    ],
)
async def test_anonymous_is_unauthenticated_on_every_scoped_field(
    api, scene: Scene, query: str
) -> None:
    """Decision 1: anonymous viewers read public data only; scoped fields refuse them at the
    top level with UNAUTHENTICATED and no data (null data, or a null nullable field)."""
    response = await api(query)
    assert response.status == 200
    assert response.error_codes == ["UNAUTHENTICATED"]
    data = response.body["data"]
    assert data is None or set(data.values()) == {None}, data


async def test_anonymous_still_reads_public_lists(api, scene: Scene) -> None:
    """Decision 1: the public catalogue stays readable without login."""
    data = (await api("{ merchants { nodes { id } } products { nodes { id } } }")).data
    assert f.gid("Merchant", scene.w.shop.id) in {n["id"] for n in data["merchants"]["nodes"]}
    assert f.gid("Product", scene.w.item.id) in {n["id"] for n in data["products"]["nodes"]}


async def test_a_bad_credential_is_refused_not_downgraded_to_anonymous(api, scene: Scene) -> None:
    """A presented credential that does not check out is UNAUTHENTICATED, even on public
    fields: it never silently becomes an anonymous read."""
    for token in ["not-a-jwt", "pzk_abc_notakey", scene.w.buyer.token + "x"]:
        response = await api("{ merchants { nodes { id } } }", token=token)
        assert response.error_codes == ["UNAUTHENTICATED"]
        assert response.body["data"] is None


# --- node(id) --------------------------------------------------------------------------------

# (role, foreign entities, own entities): attributes of Scene, or "account:<actor>".
NODE_CASES = {
    "consumer": (
        [
            "other_order",
            "other_payment",
            "other_shipment",
            "other_complaint",
            "fb_other_buyer",
            "account:other_buyer",
        ],
        ["order", "payment", "shipment", "complaint", "fb_buyer", "account:buyer"],
    ),
    "merchant": (
        [
            "other_order",
            "other_payment",
            "other_shipment",
            "other_complaint",
            "fb_other_buyer",
            "fb_other_seller",
            "account:buyer",
        ],
        ["order", "pending", "payment", "shipment", "complaint", "fb_buyer", "account:seller"],
    ),
    "logistics": (
        ["order", "payment", "other_shipment", "complaint", "fb_payer", "account:buyer"],
        ["shipment", "fb_carrier", "account:carrier_actor"],
    ),
    "payment": (
        ["order", "other_payment", "shipment", "complaint", "fb_carrier", "account:buyer"],
        ["payment", "fb_payer", "account:payer_actor"],
    ),
    "anonymous": (["order", "payment", "shipment", "complaint", "fb_buyer", "account:buyer"], []),
}
TYPE_NAMES = {
    Order: "Order",
    Payment: "Payment",
    Shipment: "Shipment",
    Complaint: "Complaint",
    Feedback: "Feedback",
}


def entity_gid(s: Scene, ref: str) -> tuple[str, str]:
    """(type name, global id) of a Scene attribute or an actor's account."""
    if ref.startswith("account:"):
        actor = getattr(s.w, ref.removeprefix("account:"))
        return "Account", actor.gid
    row = getattr(s, ref)
    type_name = TYPE_NAMES[type(row)]
    return type_name, f.gid(type_name, row.id)


@pytest.mark.parametrize("role", list(NODE_CASES))
async def test_node_with_a_foreign_id_answers_exactly_like_a_missing_id(
    api, scene: Scene, role: str
) -> None:
    """Decision 2, QS 9.4.1: ``node(id)`` reads through the same scoping as the lists; an
    id outside the viewer's scope gets the very answer a nonexistent id gets."""
    foreign, own = NODE_CASES[role]
    token = scene.token(role)
    for ref in foreign:
        type_name, global_id = entity_gid(scene, ref)
        answer = await api(NODE, {"id": global_id}, token=token)
        missing = await api(NODE, {"id": f.gid(type_name, MISSING_PK)}, token=token)
        assert answer.body == missing.body == {"data": {"node": None}}, (role, ref)
    for ref in own:
        type_name, global_id = entity_gid(scene, ref)
        answer = await api(NODE, {"id": global_id}, token=token)
        assert answer.data["node"] == {"id": global_id, "__typename": type_name}, (role, ref)


async def test_node_of_a_public_merchant_is_visible_to_everyone(api, scene: Scene) -> None:
    """Merchants are public (decision 1): node() returns them even to anonymous viewers."""
    merchant = f.gid("Merchant", scene.w.other_shop.id)
    for role in ["anonymous", "consumer", "logistics", "payment"]:
        answer = await api(NODE, {"id": merchant}, token=scene.token(role))
        assert answer.data["node"] == {"id": merchant, "__typename": "Merchant"}


# --- Nested edges ----------------------------------------------------------------------------


async def test_logistics_provider_cannot_reach_the_order_through_its_shipment(
    api, scene: Scene
) -> None:
    """Decision 2: nested edges obey scoping. The carrier reads its shipment and its tracking
    events, but ``shipment.order`` is null because the order is not in its scope."""
    s = scene
    query = """
    query($id: ID!) {
      shipments { nodes { id order { id } trackingEvents { status } provider { id } } }
      node(id: $id) { ... on Shipment { order { id state } } }
    }"""
    data = (
        await api(query, {"id": f.gid("Shipment", s.shipment.id)}, token=s.token("logistics"))
    ).data
    assert data["shipments"]["nodes"] == [
        {
            "id": f.gid("Shipment", s.shipment.id),
            "order": None,
            "trackingEvents": [{"status": "DELIVERED"}],
            "provider": {"id": f.gid("ServiceProvider", s.w.carrier.id)},
        }
    ]
    assert data["node"] == {"order": None}


async def test_payment_provider_cannot_reach_the_order_through_its_payment(
    api, scene: Scene
) -> None:
    """Decision 2, QS 9.5: the payment provider's ``payment.order`` is null, in the list and
    through node(id)."""
    s = scene
    query = """
    query($id: ID!) {
      payments { nodes { id state order { id } } }
      node(id: $id) { ... on Payment { state order { id } } }
    }"""
    data = (await api(query, {"id": f.gid("Payment", s.payment.id)}, token=s.token("payment"))).data
    assert data["payments"]["nodes"] == [
        {"id": f.gid("Payment", s.payment.id), "state": "SUCCEEDED", "order": None}
    ]
    assert data["node"] == {"state": "SUCCEEDED", "order": None}


@pytest.mark.parametrize("role", ["consumer", "merchant"])
async def test_order_parties_reach_the_orders_payment_shipment_and_lines(
    api, scene: Scene, role: str
) -> None:
    """The positive side of the same edges: the buyer and the shop do reach them."""
    s = scene
    query = """
    query($id: ID!) {
      node(id: $id) { ... on Order { payment { id } shipment { id order { id } }
        lines { quantity product { id } } } }
    }"""
    data = (await api(query, {"id": f.gid("Order", s.order.id)}, token=s.token(role))).data
    assert data["node"] == {
        "payment": {"id": f.gid("Payment", s.payment.id)},
        "shipment": {
            "id": f.gid("Shipment", s.shipment.id),
            "order": {"id": f.gid("Order", s.order.id)},
        },
        "lines": [{"quantity": 1, "product": {"id": f.gid("Product", s.w.item.id)}}],
    }


async def test_merchant_feedback_summary_is_null_for_parties_other_than_the_merchant(
    api, scene: Scene
) -> None:
    """QS 10.2: a merchant's satisfaction aggregates are for the merchant itself, compliance
    staff and regulators; others get null on the nested field and FORBIDDEN on the root
    field."""
    s = scene
    query = """
    query($id: ID!) { node(id: $id) { ... on Merchant { feedbackSummary { count } } } }"""
    shop = f.gid("Merchant", s.w.shop.id)
    # No MERCHANT-subject ratings exist yet: readers get a zero count, others null.
    for role, expected in [
        ("consumer", None),
        ("logistics", None),
        ("payment", None),
        ("merchant", {"count": 0}),
        ("regulator", {"count": 0}),
        ("staff", None),  # customer service: satisfaction with shops is not its work
    ]:
        data = (await api(query, {"id": shop}, token=s.token(role))).data
        assert data["node"]["feedbackSummary"] == expected, role
    root = """query($m: ID) { feedbackSummary(subjectType: ORDER, merchantId: $m) { count } }"""
    other_shop = f.gid("Merchant", s.w.other_shop.id)
    assert (await api(root, {"m": other_shop}, token=s.token("merchant"))).error_codes == [
        "FORBIDDEN"
    ]
    assert (await api(root, {"m": shop}, token=s.token("consumer"))).error_codes == ["FORBIDDEN"]
    own = await api(root, {"m": shop}, token=s.token("merchant"))
    assert own.data["feedbackSummary"] == {"count": 1}


# --- Audit trail (QS 9.1.2) --------------------------------------------------------------------

AUDIT_FOREIGN = {
    "consumer": ["other_order", "other_payment", "other_shipment", "other_complaint"],
    "merchant": ["other_order", "other_payment", "other_shipment", "other_complaint"],
    "logistics": ["order", "payment", "other_shipment", "complaint"],
    "payment": ["order", "other_payment", "shipment", "complaint"],
}
AUDIT_OWN = {
    "consumer": ["order", "payment", "shipment", "complaint"],
    "merchant": ["order", "payment", "shipment", "complaint"],
    "logistics": ["shipment"],
    "payment": ["payment"],
    "regulator": ["order", "other_order", "other_payment", "other_shipment", "other_complaint"],
    "staff": ["order", "other_order", "other_payment", "other_shipment", "other_complaint"],
}


@pytest.mark.parametrize("role", list(AUDIT_FOREIGN))
async def test_audit_trail_of_a_foreign_entity_is_empty_like_a_missing_one(
    api, scene: Scene, role: str
) -> None:
    """QS 9.1.2 with QS 9.4.1: the trail is queryable by the parties of an entity only; for a
    foreign entity ``auditTrail`` is [] and ``verifyAuditTrail`` null, as for a missing id,
    although the foreign entity does have a trail."""
    token = scene.token(role)
    for ref in AUDIT_FOREIGN[role]:
        type_name, global_id = entity_gid(scene, ref)
        row = getattr(scene, ref)
        assert await AuditEvent.filter(entity_type=type_name, entity_id=row.id).exists()
        answer = await api(TRAIL, {"id": global_id}, token=token)
        missing = await api(TRAIL, {"id": f.gid(type_name, MISSING_PK)}, token=token)
        expected = {"data": {"auditTrail": [], "verifyAuditTrail": None}}
        assert answer.body == missing.body == expected, (role, ref)


@pytest.mark.parametrize("role", list(AUDIT_OWN))
async def test_parties_and_regulators_read_and_verify_the_trail_they_may_see(
    api, scene: Scene, role: str
) -> None:
    """QS 9.1.2: the positive side: each party reads and verifies its own entities' trails;
    regulators and staff read everyone's."""
    token = scene.token(role)
    for ref in AUDIT_OWN[role]:
        type_name, global_id = entity_gid(scene, ref)
        row = getattr(scene, ref)
        stored = await AuditEvent.filter(entity_type=type_name, entity_id=row.id).count()
        data = (await api(TRAIL, {"id": global_id}, token=token)).data
        assert [e["seq"] for e in data["auditTrail"]] == list(range(1, stored + 1)), (role, ref)
        assert data["verifyAuditTrail"] == {"valid": True, "checked": stored}, (role, ref)
        assert stored >= 1


async def test_anonymous_reads_public_trails_and_nothing_else(api, scene: Scene) -> None:
    """QS 5.2, 9.1.2: a rule version's publication is public like the rule; an order's
    trail, to anonymous viewers, is as empty as a missing id's."""
    from pinzhi.services import rules

    rule = await rules.current("order.limits")
    public = await api(TRAIL, {"id": f.gid("PlatformRule", rule.id)})
    assert [e["action"] for e in public.data["auditTrail"]] == ["published"]
    assert public.data["verifyAuditTrail"]["valid"] is True
    hidden = await api(TRAIL, {"id": f.gid("Order", scene.order.id)})
    assert hidden.body == {"data": {"auditTrail": [], "verifyAuditTrail": None}}


async def test_viewers_with_one_scope_key_see_the_same_sessions_and_messages(db) -> None:  # type: ignore[no-untyped-def]
    """QS 9.2.2: a worker reads a message once for all its subscribers of one scope key
    (services/customer_service/live.py); that is sound only if equal keys mean equal rows.
    Checked for every kind of viewer over sessions of two consumers and two shops."""
    from itertools import combinations

    from pinzhi.auth.scopes import scope, scope_key
    from pinzhi.auth.viewer import ANONYMOUS
    from pinzhi.models import ProviderKind, ServiceMessage, ServiceSession
    from pinzhi.services import state
    from pinzhi.services.customer_service import sessions

    w = await f.world()
    _, other_seller = await f.merchant()
    shop_colleague = await f.staff()  # no duty
    for opener in (w.buyer, w.other_buyer, w.seller, other_seller):
        session = await sessions.open_session(opener.viewer)
        await ServiceMessage.create(
            session_id=session.id, author_kind="CUSTOMER", body="在吗", created_at=state.now()
        )
    viewers = [
        ANONYMOUS,
        w.buyer.viewer,
        w.other_buyer.viewer,
        w.seller.viewer,
        other_seller.viewer,
        w.agent.viewer,
        (await f.staff(StaffDuty.ADMIN)).viewer,
        (await f.staff(StaffDuty.CUSTOMER_SERVICE, StaffDuty.COMPLIANCE)).viewer,
        (await f.staff(StaffDuty.COMPLIANCE)).viewer,
        shop_colleague.viewer,
        w.regulator.viewer,
        (await f.provider(ProviderKind.LOGISTICS))[1].viewer,
    ]
    for model in (ServiceSession, ServiceMessage):
        seen = {}
        for viewer in viewers:
            rows = await scope(viewer, model).values_list("id", flat=True)
            seen[viewer] = (scope_key(viewer, model), sorted(rows))
        for a, b in combinations(viewers, 2):
            if seen[a][0] == seen[b][0]:
                assert seen[a][1] == seen[b][1], (model.__name__, a, b)
        # And the key tells the parties apart.
        assert seen[w.buyer.viewer][0] != seen[w.other_buyer.viewer][0]
        assert seen[w.seller.viewer][0] != seen[other_seller.viewer][0]
        assert seen[w.agent.viewer][0] != seen[w.buyer.viewer][0]
