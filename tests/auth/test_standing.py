"""A token's account must still be in good standing: deactivated or gone, it stops at once
(QS 9.4.1), and the steps are traced (QS 9.1.2)."""

from __future__ import annotations

import pytest

from pinzhi.auth.tokens import issue_access_token
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import Account, AuditEvent, RefreshToken, Role, StaffDuty
from pinzhi.services import audit, credentials
from tests import factories as f

PLACE = (
    """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id } errors { code } } }"""
)
DEACTIVATE = """mutation($i: SetAccountActiveInput!) {
  setAccountActive(input: $i) { account { id } errors { code field } } }"""


def _order(item_id: int) -> dict:
    return {
        "i": {
            "lines": [{"productId": f.gid("Product", item_id), "quantity": 1}],
            "recipient": {"name": "张三", "phone": "13812345678", "address": "北京市朝阳区建国路"},
        }
    }


async def test_a_deactivated_accounts_token_stops_at_once(api) -> None:
    """The buyer's fifteen-minute access token worked a moment ago; once an admin
    deactivates the account, the very next request is UNAUTHENTICATED and places nothing."""
    w = await f.world()
    admin = await f.staff(StaffDuty.ADMIN)
    placed = await api(PLACE, _order(w.item.id), token=w.buyer.token)
    assert placed.data["placeOrder"]["errors"] == []

    done = await api(
        DEACTIVATE,
        {"i": {"accountId": w.buyer.gid, "active": False, "reason": "盗号 account stolen"}},
        token=admin.token,
    )
    assert done.data["setAccountActive"]["errors"] == []

    refused = await api(PLACE, _order(w.item.id), token=w.buyer.token)
    assert refused.error_codes == ["UNAUTHENTICATED"]
    assert refused.body["data"] is None
    assert "inactive" in refused.errors[0]["extensions"]["reason"]


async def test_a_token_of_an_account_that_does_not_exist_is_unauthenticated(api) -> None:
    """A token signed with our secret for an account that is gone gets UNAUTHENTICATED (it
    used to get "Internal error" when it placed an order)."""
    ghost = Account(id=987_654, role=Role.CONSUMER, duties="", merchant_id=None, provider_id=None)
    token, _ = issue_access_token(ghost)
    w = await f.world()
    result = await api(PLACE, _order(w.item.id), token=token)
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert "Internal error" not in str(result.body)


async def test_deactivation_ends_refresh_tokens_and_api_keys_and_reactivation_restores_login(
    api, cache
) -> None:
    w = await f.world()
    admin = await f.staff(StaffDuty.ADMIN)
    await RefreshToken.create(
        account_id=w.buyer.account.id, token_hash="h" * 64, family="f1", expires_at=f.far_future()
    )
    await credentials.set_active(admin.viewer, w.buyer.account.id, False, "风控 risk", cache)
    assert await RefreshToken.filter(account_id=w.buyer.account.id, revoked_at=None).count() == 0
    login = (
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
        "{ accessToken errors { code } } }"
    )
    assert (await api(login, {"e": w.buyer.email, "p": f.PASSWORD})).data["login"]["errors"] == [
        {"code": "INVALID_CREDENTIALS"}
    ]
    # A provider's API key is refused with its account.
    await credentials.set_active(admin.viewer, w.carrier_actor.account.id, False, "停用", cache)
    keyed = await api("{ shipments { nodes { id } } }", token=w.carrier_key)
    assert keyed.error_codes == ["UNAUTHENTICATED"]

    await credentials.set_active(admin.viewer, w.buyer.account.id, True, "核实 verified", cache)
    again = await api(login, {"e": w.buyer.email, "p": f.PASSWORD})
    assert again.data["login"]["accessToken"]
    trail = [e.action for e in await audit.trail("Account", w.buyer.account.id)]
    assert trail == ["created", "deactivated", "reactivated"]


@pytest.mark.parametrize("duty", [StaffDuty.COMPLIANCE, StaffDuty.CUSTOMER_SERVICE])
async def test_only_admin_staff_deactivate_and_never_themselves(cache, db, duty) -> None:
    w = await f.world()
    other = await f.staff(duty)
    with pytest.raises(ServiceError) as raised:
        await credentials.set_active(other.viewer, w.buyer.account.id, False, "不行", cache)
    assert raised.value.code == ErrorCode.NOT_ELIGIBLE
    admin = await f.staff(StaffDuty.ADMIN)
    with pytest.raises(ServiceError) as raised:
        await credentials.set_active(admin.viewer, admin.account.id, False, "自己", cache)
    assert raised.value.field == ["accountId"]
    assert await Account.filter(is_active=False).count() == 0


async def test_logout_replay_and_api_keys_are_traced(api) -> None:
    """QS 9.1.2: ending a login, a replayed refresh token that revokes its login, and an API
    key issued and revoked are traced key nodes."""
    w = await f.world()
    login = (
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
        "{ refreshToken } }"
    )
    first = (await api(login, {"e": w.buyer.email, "p": f.PASSWORD})).data["login"]
    refresh = "mutation($t: String!) { refreshAccessToken(refreshToken: $t) { errors { code } } }"
    await api(refresh, {"t": first["refreshToken"]})
    replayed = await api(refresh, {"t": first["refreshToken"]})
    assert replayed.data["refreshAccessToken"]["errors"] == [{"code": "INVALID_TOKEN"}]
    second = (await api(login, {"e": w.buyer.email, "p": f.PASSWORD})).data["login"]
    logout = "mutation($t: String!) { logout(refreshToken: $t) { revoked errors { code } } }"
    assert (await api(logout, {"t": second["refreshToken"]}, token=w.buyer.token)).data[
        "logout"
    ] == {"revoked": True, "errors": []}
    actions = [e.action for e in await audit.trail("Account", w.buyer.account.id)]
    assert actions == ["created", "login_revoked", "logged_out"]

    created = await api(
        'mutation { createApiKey(label: "仓库 WMS") { apiKey { id } secret errors { code } } }',
        token=w.carrier_actor.token,
    )
    key_id = created.data["createApiKey"]["apiKey"]["id"]
    revoked = await api(
        "mutation($id: ID!) { revokeApiKey(apiKeyId: $id) { revoked } }",
        {"id": key_id},
        token=w.carrier_actor.token,
    )
    assert revoked.data["revokeApiKey"]["revoked"] is True
    events = await AuditEvent.filter(entity_type="ApiKey").order_by("id")
    assert [e.action for e in events][-2:] == ["issued", "revoked"]


async def test_a_standing_read_before_a_deactivation_does_not_overwrite_it(cache, db) -> None:
    """A request read "active" from the database just before an admin deactivated the
    account and wrote "inactive" to the cache: its late write must not bring "active"
    back for a minute."""
    from pinzhi.auth import standing

    w = await f.world()
    admin = await f.staff(StaffDuty.ADMIN)
    real_filter = Account.filter
    calls = {"n": 0}

    def filter_then_deactivate(*args, **kwargs):  # type: ignore[no-untyped-def]
        query = real_filter(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] > 1:
            return query

        class Racing:
            def values_list(self, *a, **k):  # type: ignore[no-untyped-def]
                async def run():  # type: ignore[no-untyped-def]
                    rows = await query.values_list(*a, **k)
                    await credentials.set_active(
                        admin.viewer, w.buyer.account.id, False, "盗号", cache
                    )
                    return rows

                return run()

        return Racing()

    Account.filter = filter_then_deactivate  # type: ignore[method-assign]
    try:
        assert await standing.standing_of(cache, w.buyer.account.id) == standing.INACTIVE
    finally:
        Account.filter = real_filter  # type: ignore[method-assign]
    assert await standing.standing_of(cache, w.buyer.account.id) == standing.INACTIVE
