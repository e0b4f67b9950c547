"""The staff-posts API end to end (QS 9.3.1-9.3.4): training, profiles, assignments and
their refusals, on duty, the staffing report and performance, as each role sees them."""

from __future__ import annotations

from pinzhi.auth.crypto import encrypt
from pinzhi.models import Account, PiiAccessLog, StaffDuty
from pinzhi.services import complaints
from tests import factories as f

EN = {"Accept-Language": "en"}

ENROL = """mutation($id: ID!) { enrolStaffCourse(courseId: $id) {
  enrolment { id staffId merchant { id } } errors { code field } } }"""
ASSESS = """mutation($id: ID!, $score: Int!) { recordAssessment(enrolmentId: $id, score: $score) {
  enrolment { id passed } errors { code field message } } }"""
PROFILE = """mutation($i: SetStaffProfileInput!) { setStaffProfile(input: $i) {
  staffMember { id staffId team experienceSince experienceMonths } errors { code field } } }"""
ASSIGN = """mutation($id: ID!, $post: Post!) { assignStaffPost(staffId: $id, post: $post) {
  assignment { id post staffId monthsHeld enrolmentIds ruleVersion endedAt }
  errors { code field message } } }"""
END = """mutation($id: ID!) { endStaffPost(assignmentId: $id, reason: "调岗 moved") {
  assignment { id endedAt endReason } errors { code field } } }"""
DUTY = """mutation($on: Boolean!) { setOnDuty(onDuty: $on) {
  staffMember { onDuty } errors { code field message } } }"""
MEMBERS = """{ staffMembers { nodes { staffId name team onDuty duties active experienceMonths
  posts { post } training { passed course { topic } }
  qualifications { post eligible keyPost missingTopics lawTopic lawPassed monthsHeld
    monthsNeeded refusals { code } } } } }"""
REPORT = """{ staffingReport { ruleVersion perItems posts {
  post duties keyPost assigned onDuty workload openItems ratio } } }"""
PERFORMANCE = """query($p: String) { staffPerformance(period: $p) { nodes {
  staffId name team period score weights { part weight }
  satisfaction { feedbackCount average score } closure { assigned resolved rate score }
  response { responses withinLimit share score } } } }"""


async def _named_staff(name: str, *duties: StaffDuty) -> f.Actor:
    actor = await f.staff(*duties)
    await Account.filter(id=actor.account.id).update(name_enc=encrypt(name))
    return actor


async def test_an_agent_is_trained_profiled_and_put_on_posts_over_the_api(api, clock) -> None:
    """QS 9.3.2, 9.3.4: the agent enrols itself, an admin assesses and records its
    profile; a key post at 11 months is refused with the months held, in English on
    request; the agent takes the online post, goes on duty, and is taken off it."""
    admin = await f.staff(StaffDuty.ADMIN)
    agent = await _named_staff("王小明", StaffDuty.CUSTOMER_SERVICE)
    courses = [await f.staff_course(admin, t) for t in (*f.STAFF_TOPICS, "ECOMMERCE_LAW")]
    for course in courses:
        enrolled = (await api(ENROL, {"id": f.gid("Course", course.id)}, token=agent.token)).data
        enrolment = enrolled["enrolStaffCourse"]["enrolment"]
        assert (enrolment["staffId"], enrolment["merchant"]) == (agent.gid, None)
        own = await api(ASSESS, {"id": enrolment["id"], "score": 99}, token=agent.token)
        assert own.error_codes == ["FORBIDDEN"]  # customer service does not assess
        assessed = await api(ASSESS, {"id": enrolment["id"], "score": 88}, token=admin.token)
        assert assessed.data["recordAssessment"]["enrolment"]["passed"] is True

    since = f.months_ago(clock.at.date(), 11).isoformat()
    profile = {"staffId": agent.gid, "team": "投诉组 Complaints", "experienceSince": since}
    recorded = (await api(PROFILE, {"i": profile}, token=admin.token)).data["setStaffProfile"]
    assert recorded["errors"] == []
    assert recorded["staffMember"]["experienceMonths"] == 11

    refused = await api(
        ASSIGN, {"id": agent.gid, "post": "COMPLAINT_HANDLING"}, token=admin.token, headers=EN
    )
    assert refused.data["assignStaffPost"] == {
        "assignment": None,
        "errors": [
            {
                "code": "EXPERIENCE_SHORT",
                "field": ["post"],
                "message": "A key post needs at least one year of relevant experience "
                "(11 of 12 months)",
            }
        ],
    }
    given = (
        await api(ASSIGN, {"id": agent.gid, "post": "ONLINE_SERVICE"}, token=admin.token)
    ).data["assignStaffPost"]
    assignment = given["assignment"]
    assert (assignment["post"], assignment["monthsHeld"], assignment["endedAt"]) == (
        "ONLINE_SERVICE",
        11,
        None,
    )
    assert len(assignment["enrolmentIds"]) == 2  # etiquette and rights handling

    on = (await api(DUTY, {"on": True}, token=agent.token)).data["setOnDuty"]
    assert on == {"staffMember": {"onDuty": True}, "errors": []}
    ended = (await api(END, {"id": assignment["id"]}, token=admin.token)).data["endStaffPost"]
    assert ended["assignment"]["endReason"] == "调岗 moved"
    again = (await api(DUTY, {"on": True}, token=agent.token, headers=EN)).data["setOnDuty"]
    assert again["errors"][0]["code"] == "NOT_ON_POST"


async def test_staff_records_are_their_own_and_regulators_read_names_masked(api) -> None:
    """QS 9.3.1, 9.4.1: a staff member lists only its own record; admin staff everyone's,
    names whole (a logged read); regulators everyone's, names masked; consumers FORBIDDEN.
    The qualifications say what each post still needs."""
    admin = await f.staff(StaffDuty.ADMIN)
    agent = await f.qualified_staff(admin, months=3, team="一组 Team 1")
    await Account.filter(id=agent.account.id).update(name_enc=encrypt("王小明"))
    other = await f.qualified_staff(admin, team="二组 Team 2")
    await f.on_post(admin, agent, "ONLINE_SERVICE")

    own = (await api(MEMBERS, token=agent.token)).data["staffMembers"]["nodes"]
    assert [(m["staffId"], m["name"]) for m in own] == [(agent.gid, "王小明")]
    mine = own[0]
    assert (mine["posts"], mine["duties"], mine["active"]) == (
        [{"post": "ONLINE_SERVICE"}],
        ["CUSTOMER_SERVICE"],
        True,
    )
    by_post = {q["post"]: q for q in mine["qualifications"]}
    assert by_post["ONLINE_SERVICE"]["eligible"] is True
    handling = by_post["COMPLAINT_HANDLING"]
    assert (handling["eligible"], handling["keyPost"], handling["lawTopic"]) == (
        False,
        True,
        "ECOMMERCE_LAW",
    )
    assert [r["code"] for r in handling["refusals"]] == [
        "LAW_ASSESSMENT_MISSING",
        "EXPERIENCE_SHORT",
    ]
    assert (handling["monthsHeld"], handling["monthsNeeded"]) == (3, 12)
    assert by_post["QUALITY_SUPERVISION"]["refusals"] == [{"code": "STAFF_DUTY_MISSING"}]

    logged = await PiiAccessLog.all().count()
    seen = (await api(MEMBERS, token=admin.token)).data["staffMembers"]["nodes"]
    assert {m["staffId"]: m["name"] for m in seen}[agent.gid] == "王小明"
    assert {m["staffId"] for m in seen} == {agent.gid, other.gid}
    assert await PiiAccessLog.all().count() > logged
    regulator = await f.regulator()
    masked = (await api(MEMBERS, token=regulator.token)).data["staffMembers"]["nodes"]
    assert {m["staffId"]: m["name"] for m in masked}[agent.gid] == "王**"
    team = await api(
        '{ staffMembers(team: "二组 Team 2") { nodes { staffId } } }', token=admin.token
    )
    assert team.data["staffMembers"]["nodes"] == [{"staffId": other.gid}]
    holders = await api(
        "{ staffMembers(post: ONLINE_SERVICE) { nodes { staffId } } }", token=admin.token
    )
    assert holders.data["staffMembers"]["nodes"] == [{"staffId": agent.gid}]
    consumer = await f.consumer()
    assert (await api(MEMBERS, token=consumer.token)).error_codes == ["FORBIDDEN"]


async def test_the_staffing_report_for_admins_compliance_and_regulators(api) -> None:
    """QS 9.3.1: staff per open workload, in the request's language; customer-service
    agents and consumers are FORBIDDEN."""
    w = await f.world()
    admin = await f.staff(StaffDuty.ADMIN)
    agent = await f.qualified_staff(admin, topics=(*f.STAFF_TOPICS, "ECOMMERCE_LAW"), months=12)
    await f.on_post(admin, agent, "COMPLAINT_HANDLING", on_duty=True)
    for _ in range(4):
        await f.complaint(w.buyer, (await f.paid_order(w))[0])
    for who in (admin, await f.compliance_officer(), w.regulator):
        report = (await api(REPORT, token=who.token, headers=EN)).data["staffingReport"]
        rows = {p["post"]: p for p in report["posts"]}
        assert report["perItems"] == 100
        assert rows["COMPLAINT_HANDLING"] == {
            "post": "COMPLAINT_HANDLING",
            "duties": rows["COMPLAINT_HANDLING"]["duties"],
            "keyPost": True,
            "assigned": 1,
            "onDuty": 1,
            "workload": "Complaints not resolved",
            "openItems": 4,
            "ratio": 25.0,
        }
        assert rows["COMPLAINT_HANDLING"]["duties"].startswith("Complaint handling")
    for who in (w.agent, w.buyer):
        assert (await api(REPORT, token=who.token)).error_codes == ["FORBIDDEN"]


async def test_performance_for_admins_regulators_masked_and_each_their_own(api) -> None:
    """QS 9.3.3: admin staff read everyone's performance, regulators too with names masked,
    a staff member only its own; a month not written YYYY-MM is BAD_USER_INPUT."""
    w = await f.world()
    admin = await f.staff(StaffDuty.ADMIN)
    agent = await f.qualified_staff(admin)
    await Account.filter(id=agent.account.id).update(name_enc=encrypt("王小明"))
    other = await f.qualified_staff(admin, team="二组 Team 2")
    placed, _ = await f.paid_order(w)
    filed = await f.complaint(w.buyer, placed)
    await complaints.take_complaint(agent.viewer, filed.id)
    await complaints.handle_complaint(
        agent.viewer, filed.id, resolution="已处理 done", upheld=False
    )
    await f.feedback(w.buyer, "SERVICE_CASE", filed.id, 4)

    rows = (await api(PERFORMANCE, token=admin.token)).data["staffPerformance"]["nodes"]
    by_id = {r["staffId"]: r for r in rows}
    assert set(by_id) == {agent.gid, other.gid}
    found = by_id[agent.gid]
    assert found["name"] == "王小明"
    assert found["satisfaction"] == {"feedbackCount": 1, "average": 4.0, "score": 75.0}
    assert found["closure"] == {"assigned": 1, "resolved": 1, "rate": 1.0, "score": 100.0}
    assert found["response"] == {"responses": 0, "withinLimit": 0, "share": None, "score": None}
    assert found["weights"] == [
        {"part": "satisfaction", "weight": 0.5},
        {"part": "closure", "weight": 0.5},
    ]
    assert found["score"] == 87.5
    assert by_id[other.gid]["score"] is None

    masked = (await api(PERFORMANCE, token=w.regulator.token)).data["staffPerformance"]["nodes"]
    assert {r["staffId"]: r["name"] for r in masked}[agent.gid] == "王**"
    own = (await api(PERFORMANCE, token=agent.token)).data["staffPerformance"]["nodes"]
    assert [r["staffId"] for r in own] == [agent.gid]
    officer = await f.compliance_officer()  # no record of its own: nothing
    assert (await api(PERFORMANCE, token=officer.token)).data["staffPerformance"]["nodes"] == []
    bad = await api(PERFORMANCE, {"p": "2026-1"}, token=admin.token)
    assert bad.error_codes == ["BAD_USER_INPUT"]
    assert (await api(PERFORMANCE, token=w.buyer.token)).error_codes == ["FORBIDDEN"]


async def test_a_month_outside_1970_to_2200_or_a_team_too_long_is_bad_user_input(api) -> None:
    """QS 9.3.3: `staffPerformance(period:)` for year 0 or 9999, and a `team` filter longer
    than any team (50 characters) on staffMembers or staffPerformance, are the caller's
    errors (BAD_USER_INPUT), never internal ones."""
    admin = await f.staff(StaffDuty.ADMIN)
    await f.qualified_staff(admin)
    for period in ("0000-01", "9999-12"):
        bad = await api(PERFORMANCE, {"p": period}, token=admin.token)
        assert bad.error_codes == ["BAD_USER_INPUT"], bad.body
    for field in ("staffMembers", "staffPerformance"):
        listed = "query($t: String) { " + field + "(team: $t) { nodes { staffId } } }"
        long = await api(listed, {"t": "x" * 51}, token=admin.token)
        assert long.error_codes == ["BAD_USER_INPUT"], long.body
        assert (await api(listed, {"t": "x" * 50}, token=admin.token)).data == {
            field: {"nodes": []}
        }
