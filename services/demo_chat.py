"""Customer-service chat in the demo world (QS 9.2.2, 9.7.1, 9.7.2), seeded yesterday
through the same services as the API:

- 张三 asks the AI about a refund and an invoice, is answered from the FAQ, and leaves
  (AI only);
- 张三 asks where a parcel is, gets its live status, asks for a person in words, and is
  answered within the limits (handed over);
- 李四, whose accessibility profile takes her straight to a human, first in line, waits
  75 s for the first answer all the same (breached; the sweep stamps it);
- 张三 is waiting in the queue now, so an agent who signs in has someone to take.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from pinzhi.auth.viewer import Viewer
from pinzhi.services import jobs, state
from pinzhi.services.customer_service import sessions


async def _at(moment: datetime, step):  # type: ignore[no-untyped-def]
    with state.as_of(moment):
        return await step


async def seed(
    consumers: Sequence[Viewer],
    agents: Sequence[Viewer],
    progress: Callable[[str], None] = print,
) -> dict[str, int]:
    """The sessions above; their ids by role in the story."""
    zhang, li = consumers[0], consumers[1]
    first, second = agents[0], agents[-1]
    day = state.now().replace(microsecond=0) - timedelta(days=1)
    t = day.replace(hour=2, minute=0, second=0)  # 10:00 in Beijing

    ai_only = await _at(t, sessions.open_session(zhang))
    await _at(t, sessions.send_message(zhang, ai_only.id, "退款一般多久能到账？"))
    await _at(t + timedelta(seconds=40), sessions.send_message(zhang, ai_only.id, "订单怎么开发票"))
    await _at(t + timedelta(seconds=90), sessions.close(zhang, ai_only.id))

    t += timedelta(hours=1)
    handed = await _at(t, sessions.open_session(zhang))
    await _at(t, sessions.send_message(zhang, handed.id, "我的快递到哪了？"))
    await _at(t + timedelta(seconds=20), sessions.send_message(zhang, handed.id, "帮我转人工"))
    await _at(t + timedelta(seconds=26), sessions.take(first, handed.id))
    await _at(
        t + timedelta(seconds=32),
        sessions.send_message(first, handed.id, "您好，我是客服小品，正在为您查询物流。"),
    )
    await _at(
        t + timedelta(seconds=50),
        sessions.send_message(zhang, handed.id, "三天没更新了，能催一下吗？"),
    )
    await _at(
        t + timedelta(seconds=95),
        sessions.send_message(first, handed.id, "已联系快递加急处理，预计明天送达。"),
    )
    await _at(t + timedelta(minutes=3), sessions.close(first, handed.id))

    t += timedelta(hours=1)
    breached = await _at(t, sessions.open_session(li))
    await _at(t + timedelta(seconds=60), sessions.take(second, breached.id))
    await jobs.run("service-breach-sweep", progress=lambda _: None, now=t + timedelta(seconds=61))
    await _at(
        t + timedelta(seconds=75),
        sessions.send_message(second, breached.id, "抱歉久等了，请问有什么可以帮您？"),
    )
    await _at(t + timedelta(minutes=4), sessions.close(li, breached.id))

    waiting = await sessions.open_session(zhang)
    await sessions.send_message(zhang, waiting.id, "发票抬头开错了，想找人工改一下")
    await sessions.request_human(zhang, waiting.id)
    progress("  customer service: 4 chat sessions (AI only, handed over, breached, waiting)")
    return {
        "ai_only": ai_only.id,
        "handed_over": handed.id,
        "breached": breached.id,
        "waiting": waiting.id,
    }
