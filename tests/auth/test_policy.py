"""The one policy table (auth/policy.py): every mutation has exactly one entry, the field
permission and the service guard both read it, and the permission keeps no state."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from graphql import GraphQLError

from pinzhi.auth import policy
from pinzhi.auth.policy import ACTIONS, Action, Policy, allow, may, require
from pinzhi.auth.viewer import ANONYMOUS, Viewer
from pinzhi.errors import ErrorCode, ServiceError
from pinzhi.models import ProviderKind, Role, StaffDuty
from pinzhi.schema import schema
from pinzhi.schema.fields import ACTION
from pinzhi.schema.permissions import PolicyPermission, permission_for

SERVICES = Path(__file__).resolve().parents[2] / "services"


def _mutation_fields() -> dict[str, object]:
    definition = schema.get_type_by_name("Mutation")
    assert definition is not None
    return {schema.config.name_converter.get_graphql_name(f): f for f in definition.fields}


def test_every_mutation_has_exactly_one_policy_entry() -> None:
    fields = _mutation_fields()
    actions = {name: field.metadata.get(ACTION) for name, field in fields.items()}
    assert all(isinstance(a, Action) for a in actions.values()), actions
    # Each field names its own action, and each action is one field.
    assert {name: a.value for name, a in actions.items()} == {n: n for n in fields}
    assert sorted(actions.values()) == sorted(Action)
    assert set(ACTIONS) == set(Action)


def test_a_mutations_permission_is_built_from_its_policy_entry() -> None:
    for name, field in _mutation_fields().items():
        entry = ACTIONS[Action(name)]
        classes = field.permission_classes
        if entry.public:
            assert classes == [], name
        else:
            assert [c.policy for c in classes] == [entry], name


def test_every_guarded_action_is_required_by_exactly_one_service_call() -> None:
    """The service that carries an action out guards it with the same entry; a public
    action (signing in) has nothing to guard."""
    calls: dict[str, int] = {}
    for path in SERVICES.rglob("*.py"):
        for found in re.findall(r"Action\.([A-Z_]+)", path.read_text(encoding="utf-8")):
            calls[found] = calls.get(found, 0) + 1
    guarded = {a.name for a, entry in ACTIONS.items() if not entry.public}
    assert set(calls) == guarded
    assert all(count == 1 for count in calls.values()), calls


STAFF_CS = Viewer(role=Role.STAFF, account_id=1, duties=frozenset({StaffDuty.CUSTOMER_SERVICE}))
STAFF_ADMIN = Viewer(role=Role.STAFF, account_id=2, duties=frozenset({StaffDuty.ADMIN}))
CARRIER = Viewer(
    role=Role.SERVICE_PROVIDER, account_id=3, provider_id=1, provider_kind=ProviderKind.LOGISTICS
)
PAYER = Viewer(
    role=Role.SERVICE_PROVIDER, account_id=4, provider_id=2, provider_kind=ProviderKind.PAYMENT
)
CENTRE = Viewer(
    role=Role.SERVICE_PROVIDER,
    account_id=7,
    provider_id=3,
    provider_kind=ProviderKind.CONTACT_CENTRE,
)
CONSUMER = Viewer(role=Role.CONSUMER, account_id=5)
REGULATOR = Viewer(role=Role.REGULATOR, account_id=6)


def test_a_policy_admits_its_roles_and_for_staff_one_of_its_duties() -> None:
    cancellers = ACTIONS[Action.CANCEL_ORDER]
    assert cancellers.allows(CONSUMER)
    assert cancellers.allows(STAFF_CS)
    assert not cancellers.allows(STAFF_ADMIN)
    assert not cancellers.allows(REGULATOR)
    assert not cancellers.allows(ANONYMOUS)
    # No duty listed: any staff.
    assert allow(Role.STAFF).allows(STAFF_ADMIN)


def test_a_policy_for_providers_may_name_their_kind() -> None:
    """QS 9.5, 9.6.2: payments are confirmed by payment providers, tracking by carriers."""
    assert may(PAYER, Action.CONFIRM_PAYMENT)
    assert not may(CARRIER, Action.CONFIRM_PAYMENT)
    assert may(CARRIER, Action.RECORD_TRACKING_EVENT)
    assert not may(PAYER, Action.RECORD_TRACKING_EVENT)
    assert policy.PROVIDER.allows(PAYER) and policy.PROVIDER.allows(CARRIER)


def test_qs_9_2_2_only_a_contact_centre_records_call_events() -> None:
    """QS 9.2.2: call events come from contact centres, which neither confirm payments
    nor record tracking; they keep their API keys like any provider."""
    assert may(CENTRE, Action.RECORD_CALL_EVENTS)
    for other in (CARRIER, PAYER, CONSUMER, STAFF_CS, STAFF_ADMIN, REGULATOR, ANONYMOUS):
        assert not may(other, Action.RECORD_CALL_EVENTS)
    assert not may(CENTRE, Action.CONFIRM_PAYMENT)
    assert not may(CENTRE, Action.RECORD_TRACKING_EVENT)
    assert not may(CENTRE, Action.RECORD_TRADE_IN_COLLECTED)
    assert may(CENTRE, Action.CREATE_API_KEY) and may(CENTRE, Action.REVOKE_API_KEY)
    assert ACTIONS[Action.RECORD_CALL_EVENTS].describe() == "SERVICE_PROVIDER (CONTACT_CENTRE)"


def test_qs_9_2_2_supervisors_and_regulators_read_the_phone_queue() -> None:
    readers = policy.PHONE_QUEUE_READERS
    assert readers.allows(STAFF_CS) and readers.allows(STAFF_ADMIN) and readers.allows(REGULATOR)
    compliance = Viewer(role=Role.STAFF, account_id=8, duties=frozenset({StaffDuty.COMPLIANCE}))
    for other in (compliance, CENTRE, CARRIER, CONSUMER, ANONYMOUS):
        assert not readers.allows(other)


def test_regulators_may_take_no_action() -> None:
    """Decision 4: regulators read, never write; only the public actions admit them."""
    assert {a for a in Action if may(REGULATOR, a)} == {
        a for a, entry in ACTIONS.items() if entry.public
    }


def test_public_admits_the_anonymous() -> None:
    assert policy.PUBLIC.allows(ANONYMOUS)
    assert may(ANONYMOUS, Action.LOGIN)


def test_the_service_guard_refuses_as_not_eligible() -> None:
    with pytest.raises(ServiceError) as refused:
        require(CARRIER, Action.CONFIRM_PAYMENT)
    assert refused.value.code == ErrorCode.NOT_ELIGIBLE
    require(PAYER, Action.CONFIRM_PAYMENT)


def _info(viewer: Viewer) -> SimpleNamespace:
    return SimpleNamespace(context=SimpleNamespace(viewer=viewer))


def test_the_permission_keeps_no_state_between_requests() -> None:
    """One permission instance serves every request at once: the anonymous one is refused
    as UNAUTHENTICATED and a signed-in one as FORBIDDEN, whatever came before."""
    permission = permission_for(ACTIONS[Action.PLACE_ORDER])()
    assert isinstance(permission, PolicyPermission)
    before = dict(vars(permission))
    assert permission.has_permission(None, _info(CONSUMER)) is True
    with pytest.raises(GraphQLError) as anonymous:
        permission.has_permission(None, _info(ANONYMOUS))
    assert anonymous.value.extensions == {"code": "UNAUTHENTICATED"}
    assert permission.has_permission(None, _info(REGULATOR)) is False
    with pytest.raises(GraphQLError) as signed_in:
        permission.on_unauthorized()
    assert signed_in.value.extensions == {"code": "FORBIDDEN"}
    assert vars(permission) == before


def test_one_permission_class_per_policy() -> None:
    assert permission_for(policy.CONSUMER) is permission_for(allow(Role.CONSUMER))
    assert permission_for(policy.CONSUMER) is not permission_for(Policy(frozenset({Role.MERCHANT})))


def test_the_schema_documents_who_may_use_each_mutation() -> None:
    """Integrators read the policy in the exported schema: each mutation's description
    ends with its entry."""
    for name, field in _mutation_fields().items():
        who = ACTIONS[Action(name)].describe()
        assert field.description.endswith(f"Allowed: {who}."), name
    assert ACTIONS[Action.CANCEL_ORDER].describe() == "CONSUMER, MERCHANT, STAFF (CUSTOMER_SERVICE)"
    assert ACTIONS[Action.CONFIRM_PAYMENT].describe() == "SERVICE_PROVIDER (PAYMENT)"
