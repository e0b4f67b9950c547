"""The platform can show what a regulator looked at (QS 9.4.1, 10.2)."""

from __future__ import annotations

import pytest

from pinzhi.models import RegulatorRead, StaffDuty
from pinzhi.services import regulator_reads
from tests import factories as f

READS = """query($r: ID) { regulatorReads(regulatorId: $r) { nodes {
  regulatorId operationName fields entityIds entityCount documentHash readAt } } }"""


def test_ids_are_collected_from_nested_answers_in_order() -> None:
    data = {"orders": {"nodes": [{"id": "A", "lines": [{"product": {"id": "P"}}]}, {"id": "B"}]}}
    assert list(regulator_reads.ids_in(data)) == ["A", "P", "B"]


async def test_a_regulators_queries_are_recorded_and_shown_to_compliance(api) -> None:
    w = await f.world()
    placed, _ = await f.paid_order(w)
    query = "query Inspect { orders { nodes { id lines { product { id } } } } }"
    assert (await api(query, token=w.regulator.token)).data["orders"]["nodes"]

    officer = await f.compliance_officer()
    shown = (await api(READS, {"r": w.regulator.gid}, token=officer.token)).data
    [read] = shown["regulatorReads"]["nodes"]
    assert read["regulatorId"] == w.regulator.gid
    assert (read["operationName"], read["fields"]) == ("Inspect", ["orders"])
    assert read["entityIds"] == [f.gid("Order", placed.id), f.gid("Product", w.item.id)]
    assert read["entityCount"] == 2 and len(read["documentHash"]) == 64


async def test_other_viewers_reads_are_not_recorded(api) -> None:
    w = await f.world()
    for token in (w.buyer.token, w.seller.token, (await f.compliance_officer()).token, None):
        await api("{ products { nodes { id } } }", token=token)
    assert await RegulatorRead.all().count() == 0


async def test_a_refused_regulator_mutation_records_no_read(api) -> None:
    w = await f.world()
    refused = await api(
        'mutation { createCourse(input: {code: "X1", title: "t", topic: '
        "SERVICE, passMark: 1}) { errors { code } } }",
        token=w.regulator.token,
    )
    assert refused.error_codes == ["FORBIDDEN"]
    assert await RegulatorRead.all().count() == 0


@pytest.mark.parametrize("who", ["regulator", "customer_service", "admin", "merchant", "consumer"])
async def test_only_compliance_staff_see_the_record(api, who: str) -> None:
    w = await f.world()
    await api("{ orders { nodes { id } } }", token=w.regulator.token)
    token = {
        "regulator": w.regulator.token,
        "customer_service": w.agent.token,
        "admin": (await f.staff(StaffDuty.ADMIN)).token,
        "merchant": w.seller.token,
        "consumer": w.buyer.token,
    }[who]
    assert (await api(READS, token=token)).error_codes == ["FORBIDDEN"]
