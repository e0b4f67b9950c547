"""Personal information: encrypted at rest, masked by role, every whole read logged (QS 9.4.1).

Unit tests of the mask functions, then the API as each role would read an order's recipient,
a shipment's destination and an account: who sees what whole, what lands in the access log
that regulators query, and that the stored columns hold cipher text only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from tortoise import Tortoise

from pinzhi.auth.crypto import decrypt
from pinzhi.auth.masking import mask_address, mask_email, mask_name, mask_phone
from pinzhi.auth.tokens import issue_access_token
from pinzhi.models import Order, PiiAccessLog, Role, Shipment, StaffDuty
from pinzhi.services import accounts, complaints
from tests import factories as f

WHOLE = {"name": "张三", "phone": "13812345678", "address": "北京市朝阳区建国路 88 号"}
MASKED = {"name": "张*", "phone": "138****5678", "address": "北京市朝阳区****"}
# The shop needs who and where to ship; the phone is for the carrier only.
MERCHANT_VIEW = {"name": "张三", "phone": "138****5678", "address": "北京市朝阳区建国路 88 号"}

CONTACT = "{ name phone address }"
ORDER = f"""
query($id: ID!) {{
  node(id: $id) {{ ... on Order {{ recipient {CONTACT} }} }}
  orders {{ nodes {{ id recipient {CONTACT} }} }}
}}"""
DESTINATION = f"""
query($id: ID!) {{ node(id: $id) {{ ... on Shipment {{ destination {CONTACT} }} }} }}"""
ACCOUNT = "query($id: ID!) { node(id: $id) { ... on Account { name phone } } }"
LOG = """
query($subject: ID) {
  piiAccessLog(first: 100, subjectAccountId: $subject) {
    nodes { viewerId viewerRole subjectAccountId entityId fieldsRead }
  }
}"""


# --- The mask functions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("欧阳娜娜", "欧***"), ("张", "张*"), ("Alice", "A****"), ("", "")],
)
def test_mask_name_keeps_the_first_character_only(name: str, masked: str) -> None:
    """QS 9.4.1: a masked name keeps the family name; a one-character name still shows a
    star, so the mask never equals the name."""
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        (" 13987654321 ", "139****4321"),
        ("+8613812345678", "+86****5678"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_mask_phone_keeps_prefix_and_last_four_digits(phone: str, masked: str) -> None:
    """QS 9.4.1: the usual 138****5678 form; numbers too short to mask safely are all stars."""
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("北京市朝阳区建国路 88 号", "北京市朝阳区****"),
        ("上海市浦东新区世纪大道 1 号", "上海市浦东新****"),
        ("北京市朝阳区", "******"),
        ("", ""),
    ],
)
def test_mask_address_keeps_only_the_region(address: str, masked: str) -> None:
    """QS 9.4.1: the first six characters (province and city) stay for regional analysis."""
    assert mask_address(address) == masked


# --- Through the API -------------------------------------------------------------------------


@dataclass
class Scene:
    w: f.World
    order: Order
    shipment: Shipment

    @property
    def order_id(self) -> str:
        return f.gid("Order", self.order.id)

    @property
    def shipment_id(self) -> str:
        return f.gid("Shipment", self.shipment.id)


@pytest.fixture
async def scene(db) -> Scene:
    w = await f.world()
    order, shipment = await f.shipped_order(w)
    return Scene(w, order, shipment)


async def read_order(api, scene: Scene, token: str) -> tuple[dict | None, list[dict]]:
    """The order's recipient through node(id), and every recipient in the viewer's list."""
    data = (await api(ORDER, {"id": scene.order_id}, token=token)).data
    node = data["node"]["recipient"] if data["node"] else None
    return node, [n["recipient"] for n in data["orders"]["nodes"]]


async def log_rows() -> list[tuple]:
    return list(
        await PiiAccessLog.all()
        .order_by("id")
        .values_list(
            "viewer_id",
            "viewer_role",
            "subject_account_id",
            "entity_type",
            "entity_id",
            "fields_read",
        )
    )


async def test_owner_sees_own_recipient_whole_and_own_reads_are_not_logged(
    api, scene: Scene
) -> None:
    """QS 9.4.1: the buyer sees the recipient it entered, whole, in every path; reading your
    own data is not an access to be logged."""
    token = scene.w.buyer.token
    assert await read_order(api, scene, token) == (WHOLE, [WHOLE])
    dest = (await api(DESTINATION, {"id": scene.shipment_id}, token=token)).data
    assert dest["node"]["destination"] == WHOLE
    me = (await api("{ me { name phone } }", token=token)).data["me"]
    assert me == {"name": "张三", "phone": "13812345678"}
    assert await log_rows() == []


async def test_merchant_sees_name_and_address_whole_phone_masked_and_each_read_is_logged(
    api, scene: Scene
) -> None:
    """QS 9.4.1: the shop of the order sees name and address (to ship) but not the phone;
    the whole fields it read are logged once per entity per request."""
    w = scene.w
    assert await read_order(api, scene, w.seller.token) == (MERCHANT_VIEW, [MERCHANT_VIEW])
    logged = (
        w.seller.account.id,
        "MERCHANT",
        w.buyer.account.id,
        "Order",
        scene.order.id,
        "address,name",
    )
    assert await log_rows() == [logged]
    dest = (await api(DESTINATION, {"id": scene.shipment_id}, token=w.seller.token)).data
    assert dest["node"]["destination"] == MERCHANT_VIEW
    assert await log_rows() == [
        logged,
        (
            w.seller.account.id,
            "MERCHANT",
            w.buyer.account.id,
            "Shipment",
            scene.shipment.id,
            "address,name",
        ),
    ]


async def test_another_merchant_cannot_see_the_order_at_all(api, scene: Scene) -> None:
    """QS 9.4.1, decision 2: another shop gets neither the order nor its recipient."""
    w = scene.w
    assert await read_order(api, scene, w.other_seller.token) == (None, [])
    dest = (await api(DESTINATION, {"id": scene.shipment_id}, token=w.other_seller.token)).data
    assert dest["node"] is None
    assert await log_rows() == []


async def test_regulator_sees_every_recipient_masked_and_nothing_is_logged(
    api, scene: Scene
) -> None:
    """QS 9.4.1: supervision needs the facts, not the person: regulators read all orders but
    every personal field masked, so their reads are not PII accesses."""
    w = scene.w
    token = w.regulator.token
    assert await read_order(api, scene, token) == (MASKED, [MASKED])
    dest = (await api(DESTINATION, {"id": scene.shipment_id}, token=token)).data
    assert dest["node"]["destination"] == MASKED
    account = (await api(ACCOUNT, {"id": w.buyer.gid}, token=token)).data["node"]
    assert account == {"name": "张*", "phone": "138****5678"}
    assert await log_rows() == []


TAKE = f"""
mutation($id: ID!) {{
  takeComplaint(complaintId: $id) {{ complaint {{ state order {{ recipient {CONTACT} }} }}
    errors {{ code }} }}
}}"""
RESOLVE = """
mutation($id: ID!) {
  handleComplaint(input: {complaintId: $id, resolution: "已补发 / reshipped", upheld: true}) {
    complaint { state } errors { code } }
}"""


async def test_customer_service_sees_masked_until_taking_the_consumers_complaint(
    api, scene: Scene
) -> None:
    """QS 9.4.1 with QS 9.2.4: an agent sees a consumer's data masked; once it takes that
    consumer's complaint it sees it whole (logged), and masked again after resolving it.
    A second agent without the case sees it masked throughout."""
    w = scene.w
    agent, bystander = w.agent, await f.staff(StaffDuty.CUSTOMER_SERVICE)
    case = await f.complaint(w.buyer, scene.order)
    case_id = f.gid("Complaint", case.id)
    assert await read_order(api, scene, agent.token) == (MASKED, [MASKED])
    assert await log_rows() == []

    taken = (await api(TAKE, {"id": case_id}, token=agent.token)).data["takeComplaint"]
    assert taken["errors"] == [] and taken["complaint"]["state"] == "IN_PROGRESS"
    assert taken["complaint"]["order"]["recipient"] == WHOLE
    assert await read_order(api, scene, agent.token) == (WHOLE, [WHOLE])
    account = (await api(ACCOUNT, {"id": w.buyer.gid}, token=agent.token)).data["node"]
    assert account == {"name": "张三", "phone": "13812345678"}
    rows = await log_rows()
    assert {r[:5] for r in rows} == {
        (agent.account.id, "STAFF", w.buyer.account.id, "Order", scene.order.id),
        (agent.account.id, "STAFF", w.buyer.account.id, "Account", w.buyer.account.id),
    }
    # Two order reads in two requests, one account read: every request is logged.
    assert len(rows) == 3
    assert all(r[5] == "address,name,phone" for r in rows if r[3] == "Order")

    assert await read_order(api, scene, bystander.token) == (MASKED, [MASKED])
    resolved = (await api(RESOLVE, {"id": case_id}, token=agent.token)).data
    assert resolved["handleComplaint"]["complaint"]["state"] == "RESOLVED"
    assert await read_order(api, scene, agent.token) == (MASKED, [MASKED])
    assert len(await log_rows()) == 3


async def test_assigned_carrier_sees_the_destination_whole_other_staff_masked(
    api, scene: Scene
) -> None:
    """QS 9.4.1, QS 9.6.2: the carrier that delivers needs the whole address and phone (and
    the read is logged); another carrier and the regulator do not, and staff whose duties do
    not need the shipment cannot reach it at all."""
    w = scene.w
    data = (
        await api(f"{{ shipments {{ nodes {{ destination {CONTACT} }} }} }}", token=w.carrier_key)
    ).data
    assert data["shipments"]["nodes"] == [{"destination": WHOLE}]
    assert await log_rows() == [
        (
            w.carrier_actor.account.id,
            "SERVICE_PROVIDER",
            w.buyer.account.id,
            "Shipment",
            scene.shipment.id,
            "address,name,phone",
        )
    ]
    for staff in [w.agent, await f.staff(StaffDuty.ADMIN), await f.staff(StaffDuty.COMPLIANCE)]:
        dest = (await api(DESTINATION, {"id": scene.shipment_id}, token=staff.token)).data
        assert dest["node"] is None
    regulator = (await api(DESTINATION, {"id": scene.shipment_id}, token=w.regulator.token)).data
    assert regulator["node"]["destination"] == MASKED
    other = (await api(DESTINATION, {"id": scene.shipment_id}, token=w.other_carrier_key)).data
    assert other["node"] is None
    assert len(await log_rows()) == 1


async def test_regulator_queries_the_access_log_and_filters_by_subject(api, scene: Scene) -> None:
    """QS 9.4.1: every whole read by someone other than the owner can be queried by the
    regulator, for everyone or for one data subject; compliance staff may read it too."""
    w = scene.w
    other_order, _, _ = await f.other_side_order(w, "shipped")
    await read_order(api, scene, w.seller.token)  # buyer's data, by the shop
    await api(DESTINATION, {"id": scene.shipment_id}, token=w.carrier_key)  # by the carrier
    await api(ORDER, {"id": f.gid("Order", other_order.id)}, token=w.other_seller.token)
    await read_order(api, scene, w.buyer.token)  # the owner: not logged
    await read_order(api, scene, w.regulator.token)  # masked: not logged

    everything = (await api(LOG, token=w.regulator.token)).data["piiAccessLog"]["nodes"]
    by_seller = {
        "viewerId": w.seller.gid,
        "viewerRole": "MERCHANT",
        "subjectAccountId": w.buyer.gid,
        "entityId": scene.order_id,
        "fieldsRead": ["address", "name"],
    }
    by_carrier = {
        "viewerId": w.carrier_actor.gid,
        "viewerRole": "SERVICE_PROVIDER",
        "subjectAccountId": w.buyer.gid,
        "entityId": scene.shipment_id,
        "fieldsRead": ["address", "name", "phone"],
    }
    by_other_seller = {
        "viewerId": w.other_seller.gid,
        "viewerRole": "MERCHANT",
        "subjectAccountId": w.other_buyer.gid,
        "entityId": f.gid("Order", other_order.id),
        "fieldsRead": ["address", "name"],
    }
    # Newest first.
    assert everything == [by_other_seller, by_carrier, by_seller]
    buyer_only = await api(LOG, {"subject": w.buyer.gid}, token=w.regulator.token)
    assert buyer_only.data["piiAccessLog"]["nodes"] == [by_carrier, by_seller]
    other_only = await api(LOG, {"subject": w.other_buyer.gid}, token=w.regulator.token)
    assert other_only.data["piiAccessLog"]["nodes"] == [by_other_seller]
    compliance = await f.staff(StaffDuty.COMPLIANCE)
    assert (await api(LOG, token=compliance.token)).data["piiAccessLog"]["nodes"] == everything


@pytest.mark.parametrize("who", ["consumer", "merchant", "carrier", "agent", "anonymous"])
async def test_only_regulators_and_compliance_staff_may_read_the_access_log(
    api, scene: Scene, who: str
) -> None:
    """QS 9.4.1: the access log itself holds personal data about who looked at whom; a
    consumer, a merchant, a provider or a customer-service agent get FORBIDDEN (anonymous:
    UNAUTHENTICATED), even after the log has rows about them."""
    w = scene.w
    await read_order(api, scene, w.seller.token)
    token = {
        "consumer": w.buyer.token,
        "merchant": w.seller.token,
        "carrier": w.carrier_key,
        "agent": w.agent.token,
        "anonymous": None,
    }[who]
    response = await api(LOG, {"subject": w.buyer.gid}, token=token)
    assert response.error_codes == ["UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"]
    assert response.body["data"] is None


async def test_pii_is_encrypted_at_rest(api, scene: Scene) -> None:
    """QS 9.4.1 (no leak): the stored columns hold cipher text, never the phone, name or
    address, and the cipher text does decrypt to them (so it is the data, not a stub)."""
    w = scene.w
    conn = Tortoise.get_connection("default")
    order_rows = await conn.execute_query_dict(
        "SELECT recipient_name_enc, recipient_phone_enc, address_enc FROM "
        f'"order" WHERE id = {int(scene.order.id)}'
    )
    stored = order_rows[0]
    for column, plain in [
        ("recipient_name_enc", WHOLE["name"]),
        ("recipient_phone_enc", WHOLE["phone"]),
        ("address_enc", WHOLE["address"]),
    ]:
        assert plain not in stored[column]
        assert "13812345678" not in stored[column] and "建国路" not in stored[column]
        assert decrypt(stored[column]) == plain
    account_rows = await conn.execute_query_dict(
        f"SELECT name_enc, phone_enc FROM account WHERE id = {int(w.buyer.account.id)}"
    )
    assert "13812345678" not in account_rows[0]["phone_enc"]
    assert "张三" not in account_rows[0]["name_enc"]
    assert decrypt(account_rows[0]["phone_enc"]) == "13812345678"
    # Two orders with the same recipient do not share cipher text (no equality leak).
    second = await f.order(w.buyer, w.item)
    assert second.recipient_phone_enc != scene.order.recipient_phone_enc


@pytest.mark.parametrize("role", [Role.MERCHANT, Role.STAFF, Role.REGULATOR])
async def test_every_account_holder_sees_own_account_whole_unlogged(
    api, scene: Scene, role: Role
) -> None:
    """QS 9.4.1: the owner of personal data sees it whole whatever its role; that is not
    an access by someone else, so it is not logged."""
    account = await accounts.create_account(
        f"own-{role.lower()}@test.pinzhi",
        f.PASSWORD,
        role,
        name="赵六",
        phone="13600001111",
        merchant_id=scene.w.shop.id if role == Role.MERCHANT else None,
        duties="ADMIN" if role == Role.STAFF else "",
    )
    token, _ = issue_access_token(account)
    me = (await api("{ me { name phone } }", token=token)).data["me"]
    assert me == {"name": "赵六", "phone": "13600001111"}
    assert await log_rows() == []


# --- E-mail addresses (QS 9.4.1) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("consumer1@demo.pinzhi", "c***@demo.pinzhi"),
        ("a@b.cn", "a***@b.cn"),
        ("nodomain", "********"),
    ],
)
def test_mask_email_keeps_the_first_character_and_the_domain(email: str, masked: str) -> None:
    assert mask_email(email) == masked


async def test_emails_are_encrypted_at_rest_and_found_by_a_keyed_hash(api, scene: Scene) -> None:
    """QS 9.4.1: the stored account holds no e-mail in the clear: cipher text that decrypts
    to it, and a keyed hash (not a plain hash anyone could recompute) to find it at login."""
    import hashlib

    w = scene.w
    conn = Tortoise.get_connection("default")
    row = (
        await conn.execute_query_dict(f"SELECT * FROM account WHERE id = {int(w.buyer.account.id)}")
    )[0]
    email = w.buyer.email
    assert "email" not in row
    assert all(email not in str(value) for value in row.values())
    assert decrypt(row["email_enc"]) == email
    assert row["email_hash"] != hashlib.sha256(email.encode()).hexdigest()
    logged_in = await api(
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
        "{ accessToken } }",
        {"e": email.upper(), "p": f.PASSWORD},
    )
    assert logged_in.data["login"]["accessToken"]


ACCOUNT_EMAIL = "query($id: ID!) { node(id: $id) { ... on Account { email } } }"


async def test_emails_are_masked_by_role_and_whole_reads_by_others_logged(
    api, scene: Scene
) -> None:
    """QS 9.4.1: the owner reads its e-mail whole (not logged); the regulator masked; the
    customer-service agent masked until it takes the consumer's complaint, then whole and
    logged; staff of other duties cannot reach the account at all."""
    w = scene.w
    buyer = f.gid("Account", w.buyer.account.id)
    email, masked = w.buyer.email, mask_email(w.buyer.email)

    async def seen(token: str) -> str | None:
        node = (await api(ACCOUNT_EMAIL, {"id": buyer}, token=token)).data["node"]
        return node["email"] if node else None

    complaint = await f.complaint(w.buyer, scene.order)
    assert await seen(w.buyer.token) == email
    assert await seen(w.regulator.token) == masked
    assert await seen(w.agent.token) == masked
    assert await seen((await f.staff(StaffDuty.COMPLIANCE)).token) is None
    assert await log_rows() == []
    await complaints.take_complaint(w.agent.viewer, complaint.id)
    assert await seen(w.agent.token) == email
    assert await log_rows() == [
        (w.agent.account.id, "STAFF", w.buyer.account.id, "Account", w.buyer.account.id, "email")
    ]


# --- Staff posts and their qualification (QS 9.3.1, 9.3.3) ------------------------------------


def test_a_staff_name_is_whole_for_the_person_and_admins_and_masked_for_regulators() -> None:
    """QS 9.4.1: in staff records and performance, admin staff (who manage posts) read a
    staff member's name whole, logged; regulators and other staff read it masked."""
    from pinzhi.auth.crypto import encrypt
    from pinzhi.auth.masking import Disclosure
    from pinzhi.auth.viewer import Viewer

    name = encrypt("王小明")
    own = Disclosure(Viewer(role=Role.STAFF, account_id=7))
    assert (own.staff_name(7, name), own.records) == ("王小明", [])
    admin = Disclosure(Viewer(role=Role.STAFF, account_id=1, duties=frozenset({StaffDuty.ADMIN})))
    assert admin.staff_name(7, name) == "王小明"
    assert [(r.subject_account_id, r.fields_read) for r in admin.records] == [(7, ("name",))]
    for viewer in (
        Viewer(role=Role.REGULATOR, account_id=2),
        Viewer(role=Role.STAFF, account_id=3, duties=frozenset({StaffDuty.COMPLIANCE})),
    ):
        other = Disclosure(viewer)
        assert (other.staff_name(7, name), other.records) == ("王**", [])
