"""Intent recognition through the API (QS 9.7.1): who may ask, what it answers, what it
refuses."""

from __future__ import annotations

from pinzhi.models import StaffDuty
from pinzhi.services import intents
from tests import factories as f

CLASSIFY = """query($text: String!) { classifyMessage(text: $text) {
  intent confidence language alternatives { intent confidence } } }"""


async def test_qs_9_7_1_staff_and_providers_read_a_messages_intent(api) -> None:
    """QS 9.7.1: customer-service staff, staff of another duty and both kinds of service
    provider (by token or API key) get the intent, its probability and the language."""
    w = await f.world()
    admin = await f.staff(StaffDuty.ADMIN)
    for token in (w.agent.token, admin.token, w.carrier_key, w.payer_key, w.carrier_actor.token):
        found = (await api(CLASSIFY, {"text": "我的快递三天没更新了，到哪了"}, token=token)).data
        answer = found["classifyMessage"]
        assert answer["intent"] == "LOGISTICS_STATUS" and answer["language"] == "zh"
        assert 0 < answer["confidence"] <= 1
        assert len(answer["alternatives"]) == 2
        assert all(a["confidence"] <= answer["confidence"] for a in answer["alternatives"])
    # A NUL is refused before any resolver runs, by the schema's string guard.
    nul = await api(CLASSIFY, {"text": "发票\x00"}, token=w.agent.token)
    assert nul.error_codes == ["BAD_USER_INPUT"]
    english = await api(CLASSIFY, {"text": "I was charged twice!!"}, token=w.agent.token)
    assert english.data["classifyMessage"]["intent"] == "PAYMENT_ISSUE"
    assert english.data["classifyMessage"]["language"] == "en"


async def test_qs_9_7_1_consumers_merchants_regulators_and_the_anonymous_are_refused(api) -> None:
    """QS 9.7.1: the recogniser is a tool for customer service, not a public endpoint."""
    w = await f.world()
    for token, code in (
        (w.buyer.token, "FORBIDDEN"),
        (w.seller.token, "FORBIDDEN"),
        (w.regulator.token, "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ):
        refused = await api(CLASSIFY, {"text": "退款什么时候到账"}, token=token)
        assert refused.error_codes == [code], refused.body
        assert refused.body["data"] is None


async def test_qs_9_7_1_a_blank_long_or_binary_message_is_refused_with_a_code(api) -> None:
    """QS 9.7.1: the message is 1–2000 characters without control characters; anything
    else is BAD_USER_INPUT, reason INVALID_INPUT, pointing at `text`, in the request's
    language."""
    w = await f.world()
    too_long = "退" * (intents.MAX_MESSAGE_CHARS + 1)
    for text in ("", "   \n ", too_long, "发票\x1b[31m"):
        refused = await api(CLASSIFY, {"text": text}, token=w.agent.token)
        [error] = refused.errors
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "INVALID_INPUT",
            "field": ["text"],
        }, error
        assert error["message"].startswith("输入无效")
    english = await api(
        CLASSIFY, {"text": ""}, token=w.agent.token, headers={"Accept-Language": "en"}
    )
    assert english.errors[0]["message"].startswith("The input is invalid")
    longest = await api(CLASSIFY, {"text": "发" * intents.MAX_MESSAGE_CHARS}, token=w.agent.token)
    assert longest.data["classifyMessage"]["intent"] in {i.value for i in intents.Intent}
