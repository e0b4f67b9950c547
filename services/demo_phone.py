"""The demo world's phone queue (QS 9.2.2): a contact centre with its API key and a day of
calls, reported through the same service the API's recordCallEvents uses.

Yesterday (UTC) the centre's agents took a few hundred calls in the after-sales and orders
queues, from 08:00 to 22:00 local time (UTC+8), more of them mid-morning and early in the
afternoon. Most were answered within 20 s; a few callers hung up waiting. At 11:00 local
time the after-sales queue was short of hands: its calls waited over 20 s on average, the
one hour of the day that breached. The calls are made from a fixed seed, so every run
tells the same day, and the events of some calls are sent out of order (ENDED before
ANSWERED), as a real switch does.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pinzhi.auth.api_keys import store_api_key
from pinzhi.auth.viewer import viewer_of
from pinzhi.models import (
    Account,
    ApiKey,
    Call,
    CallEventKind,
    ProviderKind,
    Role,
    ServiceProvider,
    StaffDuty,
)
from pinzhi.services import accounts, calls, state

CENTRE_NAME = "声声客服中心 VoiceCare Contact Centre"
CENTRE_EMAIL = "contact-centre@demo.pinzhi"
AGENTS = [
    ("phone-agent1@demo.pinzhi", "王芳"),
    ("phone-agent2@demo.pinzhi", "陈伟"),
    ("phone-agent3@demo.pinzhi", "刘洋"),
    ("phone-agent4@demo.pinzhi", "赵静"),
]
LOCAL_OFFSET = timedelta(hours=8)
# Calls offered per local hour, 08:00 to 21:00.
ARRIVALS = {8: 8, 9: 18, 10: 28, 11: 34, 12: 22, 13: 18, 14: 24, 15: 28, 16: 26, 17: 20,
            18: 14, 19: 12, 20: 10, 21: 6}  # fmt: skip
# The hour (local) the after-sales queue was short of hands.
BREACH_HOUR = 11
QUEUES = ("after-sales", "orders")
SEED = 9_2_2


@dataclass
class Setup:
    """What the demo's seed gives: its password, its way of deriving a provider's key, and
    the credential lists it prints (services/demo.py)."""

    password: str
    demo_key: Callable[[str], tuple[str, str, str]]
    accounts: list[dict[str, str]] = field(default_factory=list)
    api_keys: list[dict[str, str]] = field(default_factory=list)


async def _account(
    setup: Setup,
    email: str,
    role: Role,
    *,
    provider_id: int | None = None,
    duties: str = "",
    name: str = "",
) -> Account:
    existing = await accounts.find_by_email(email)
    if existing is None:
        existing = await accounts.create_account(
            email, setup.password, role, provider_id=provider_id, duties=duties, name=name
        )
    setup.accounts.append({"role": str(role), "email": email, "password": setup.password})
    return existing


def _day_of_calls(day: datetime, agent_ids: list[int]) -> list[calls.EventInput]:
    """The events of the day's calls (``day`` is its first instant, UTC)."""
    chance = random.Random(SEED)
    events: list[calls.EventInput] = []
    n = 0
    for local_hour, offered in ARRIVALS.items():
        start = day + timedelta(hours=local_hour) - LOCAL_OFFSET
        for k in range(offered):
            n += 1
            ref = f"VC-{day:%Y%m%d}-{n:04d}"
            queue = QUEUES[0] if chance.random() < 0.6 else QUEUES[1]
            queued = start + timedelta(seconds=chance.uniform(0, 3599))
            short = local_hour == BREACH_HOUR and queue == QUEUES[0]
            wait = chance.expovariate(1 / (38 if short else 7))
            # Some callers have little patience: they hang up if not answered in time.
            abandon_after = chance.uniform(3, 60) if chance.random() < 0.3 else None
            e = [calls.EventInput(f"{ref}-Q", ref, queue, CallEventKind.QUEUED, queued)]
            if abandon_after is not None and abandon_after < wait:
                hung_up = queued + timedelta(seconds=abandon_after)
                e.append(calls.EventInput(f"{ref}-X", ref, queue, CallEventKind.ABANDONED, hung_up))
            else:
                answered = queued + timedelta(seconds=round(wait, 3))
                ended = answered + timedelta(seconds=chance.uniform(60, 420))
                agent = agent_ids[(n + k) % len(agent_ids)]
                e += [
                    calls.EventInput(
                        f"{ref}-A", ref, queue, CallEventKind.ANSWERED, answered, agent
                    ),
                    calls.EventInput(f"{ref}-E", ref, queue, CallEventKind.ENDED, ended),
                ]
                if n % 7 == 0:
                    e.reverse()  # the switch sent these out of order
            events += e
    return events


async def seed_phone_queue(setup: Setup, progress: Callable[[str], None] = print) -> int:
    """The contact centre, its account and key, its agents (customer-service staff) and
    yesterday's calls; again, only the credentials. Returns the calls reported now."""
    centre, _ = await ServiceProvider.get_or_create(
        name=CENTRE_NAME, defaults={"kind": ProviderKind.CONTACT_CENTRE}
    )
    account = await _account(setup, CENTRE_EMAIL, Role.SERVICE_PROVIDER, provider_id=centre.id)
    prefix, secret, full = setup.demo_key(CENTRE_NAME)
    if not await ApiKey.filter(prefix=prefix).exists():
        await store_api_key(account, prefix, secret, "demo")
    setup.api_keys.append(
        {"role": "SERVICE_PROVIDER", "kind": str(ProviderKind.CONTACT_CENTRE), "key": full}
    )
    agents = [
        await _account(setup, email, Role.STAFF, duties=str(StaffDuty.CUSTOMER_SERVICE), name=name)
        for email, name in AGENTS
    ]
    if await Call.filter(provider_id=centre.id).exists():
        return 0
    today = state.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    events = _day_of_calls(today - timedelta(days=1), [a.id for a in agents])
    viewer = viewer_of(account, ProviderKind.CONTACT_CENTRE, "demo")
    accepted = 0
    for start in range(0, len(events), calls.MAX_BATCH):
        result = await calls.record_call_events(viewer, events[start : start + calls.MAX_BATCH])
        accepted += result.count(calls.Outcome.ACCEPTED)
    reported = await Call.filter(provider_id=centre.id).count()
    progress(f"  phone queue: {reported} calls yesterday, {accepted} events reported")
    return reported
