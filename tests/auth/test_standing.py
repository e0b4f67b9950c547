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


# --- For streams (subscriptions) ---------------------------------------------------------


class _CountedCache:
    """A cache whose reads are counted, and can be held back to overlap them."""

    def __init__(self, cache, hold: float = 0.0) -> None:  # type: ignore[no-untyped-def]
        self.cache = cache
        self.reads = 0
        self.at_once = 0
        self.most_at_once = 0
        self.hold = hold

    async def get(self, key):  # type: ignore[no-untyped-def]
        import asyncio

        self.reads += 1
        self.at_once += 1
        self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            await asyncio.sleep(self.hold)
            return await self.cache.get(key)
        finally:
            self.at_once -= 1

    async def add(self, key, value, ttl=None):  # type: ignore[no-untyped-def]
        return await self.cache.add(key, value, ttl=ttl)


async def test_streams_share_a_recent_standing_read_per_account(cache, db) -> None:  # type: ignore[no-untyped-def]
    """A hundred subscribers reading the standing for one event make one read; after the
    window the next read sees a deactivation."""
    import asyncio

    from pinzhi.auth import standing

    buyer = await f.consumer()
    counted = _CountedCache(cache, hold=0.01)
    recent = standing.Recent(counted)  # type: ignore[arg-type]
    found = await asyncio.gather(
        *(recent.standing_of(buyer.account.id, within=5) for _ in range(100))
    )
    assert set(found) == {standing.ACTIVE} and counted.reads == 1
    await standing.remember(cache, buyer.account.id, active=False)
    assert await recent.standing_of(buyer.account.id, within=5) == standing.ACTIVE
    assert await recent.standing_of(buyer.account.id, within=0) == standing.INACTIVE
    assert counted.reads == 2


async def test_streams_read_few_standings_at_once_and_a_cancelled_reader_cancels_none(
    cache, db
) -> None:  # type: ignore[no-untyped-def]
    """Distinct accounts' reads are limited to READS_AT_ONCE at a time (more than a Redis
    pool's worth at once would fail the worker's other cache reads); a subscriber that goes
    away while its read is in flight does not fail the others waiting for the same read."""
    import asyncio

    from pinzhi.auth import standing

    people = [await f.consumer(phone=f"1380000{n:04d}") for n in range(12)]
    counted = _CountedCache(cache, hold=0.02)
    recent = standing.Recent(counted)  # type: ignore[arg-type]
    found = await asyncio.gather(*(recent.standing_of(p.account.id, within=0) for p in people))
    assert found == [standing.ACTIVE] * 12
    assert counted.most_at_once == standing.READS_AT_ONCE
    first = asyncio.create_task(recent.standing_of(people[0].account.id, within=0))
    await asyncio.sleep(0)
    second = asyncio.create_task(recent.standing_of(people[0].account.id, within=0))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == standing.ACTIVE
