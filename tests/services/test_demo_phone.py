"""The demo's phone queue (QS 9.2.2): a contact centre whose key works, and a day of calls,
mostly answered within 20 s, one hour breached; a second run adds nothing."""

from __future__ import annotations

from datetime import UTC, timedelta

from pinzhi.auth.api_keys import viewer_from_api_key
from pinzhi.models import Call, CallEvent, ProviderKind
from pinzhi.services import call_metrics, demo, demo_phone, state
from pinzhi.services.call_metrics import Grain
from tests import factories as f


async def test_qs_9_2_2_the_demo_day_of_calls_breaches_in_one_hour_only(db) -> None:
    setup = demo_phone.Setup(demo.DEMO_PASSWORD, demo.demo_api_key)
    reported = await demo_phone.seed_phone_queue(setup, lambda _: None)
    assert 200 <= reported <= 400
    (key,) = setup.api_keys
    viewer = await viewer_from_api_key(key["key"])
    assert viewer.provider_kind == ProviderKind.CONTACT_CENTRE
    assert key["kind"] == "CONTACT_CENTRE"
    assert len(setup.accounts) == 1 + len(demo_phone.AGENTS)

    yesterday = (state.now().astimezone(UTC) - timedelta(days=1)).date().isoformat()
    supervisor = await f.staff()
    day = await call_metrics.report(supervisor.viewer, yesterday)
    assert {t.queue for t in day.totals} == set(demo_phone.QUEUES)
    offered = sum(t.offered for t in day.totals)
    within = sum(t.answered_within for t in day.totals)
    abandoned = sum(t.abandoned for t in day.totals)
    assert offered == reported and sum(t.waiting for t in day.totals) == 0
    assert within > 0.8 * offered and 0 < abandoned < 0.1 * offered
    hours = await call_metrics.report(supervisor.viewer, yesterday, grain=Grain.HOUR)
    breached = [
        (r.queue, (r.start + demo_phone.LOCAL_OFFSET).hour) for r in hours.rows if r.breached
    ]
    assert breached == [("after-sales", demo_phone.BREACH_HOUR)]
    assert not any(r.breached for r in day.rows)

    again = demo_phone.Setup(demo.DEMO_PASSWORD, demo.demo_api_key)
    events = await CallEvent.all().count()
    assert await demo_phone.seed_phone_queue(again, lambda _: None) == 0
    assert again.api_keys == setup.api_keys and again.accounts == setup.accounts
    assert (await Call.all().count(), await CallEvent.all().count()) == (reported, events)
