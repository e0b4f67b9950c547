"""The one schema: every graph's types, the Query and Mutation roots, and the guards.

Resolvers live in ``pinzhi.resolvers``; this module only wires them to fields with the
static role sets that may use them (architecture decision 13).
"""

from __future__ import annotations

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, QueryDepthLimiter
from strawberry.tools import merge_types

from pinzhi.auth import permissions as p
from pinzhi.resolvers import accounts as account_resolvers
from pinzhi.resolvers import catalog as catalog_resolvers
from pinzhi.resolvers import governance as governance_resolvers
from pinzhi.resolvers import grading as grading_resolvers
from pinzhi.resolvers import node as node_resolvers
from pinzhi.resolvers import orders as order_resolvers
from pinzhi.resolvers import qualifications as qualification_resolvers
from pinzhi.resolvers import service as service_resolvers
from pinzhi.schema.accounts import Account, ApiKey
from pinzhi.schema.catalog import Merchant, Product, ServiceProvider
from pinzhi.schema.documents import DocumentCache, DocumentLimits
from pinzhi.schema.errors import MaskInternalErrors, PinzhiSchema
from pinzhi.schema.execution import planning_executor
from pinzhi.schema.extensions import (
    CheckedDocuments,
    FlushAccessLog,
    RecordRegulatorReads,
    RequestGuard,
)
from pinzhi.schema.fields import (
    AUDIT_VERIFIERS,
    COMPLIANCE_STAFF,
    FEEDBACK_AUTHORS,
    ORDER_CANCELLERS,
    PAYMENT_PROVIDER,
    PII_LOG_READERS,
    READERS,
    RULE_ADMINS,
    WARNING_HANDLERS,
    field,
    mutation,
)
from pinzhi.schema.orders import Order, Payment, Shipment
from pinzhi.schema.products import ProductMutation, ProductQuery
from pinzhi.schema.qualifications import BrandRegistration, DepositPayment, MerchantLicence
from pinzhi.schema.service import Complaint, Feedback
from pinzhi.schema.violations import ViolationMutation, ViolationQuery
from pinzhi.settings import Settings, get_settings


@strawberry.type
class CoreQuery:
    me = field(account_resolvers.me, description="The viewer's account; null when anonymous.")
    node = field(
        node_resolvers.node, description="Any object by id; null if missing or out of scope."
    )
    merchants = field(catalog_resolvers.merchants, description="Public.")
    products = field(catalog_resolvers.products, description="Public; listed products only.")
    service_providers = field(catalog_resolvers.service_providers, description="Public.")
    platform_rules = field(
        governance_resolvers.platform_rules, description="Rules in force (QS 5.2)."
    )
    orders = field(order_resolvers.order_list, READERS, description="Orders in the viewer's scope.")
    payments = field(order_resolvers.payment_list, READERS)
    shipments = field(order_resolvers.shipment_list, READERS)
    complaints = field(service_resolvers.complaint_list, READERS)
    feedback = field(service_resolvers.feedback_list, READERS)
    feedback_summary = field(service_resolvers.feedback_summary, READERS)
    audit_trail = field(
        governance_resolvers.audit_trail,
        description="QS 9.1.2: the traced key nodes of any entity the viewer may see (a rule's "
        "or a product's without login); empty otherwise.",
    )
    verify_audit_trail = field(
        governance_resolvers.verify_audit_trail,
        description="QS 9.1.2: the entity's chain recomputed and held to the anchors; null "
        "when the viewer may not see the entity.",
    )
    verify_audit_period = field(
        governance_resolvers.verify_audit_period,
        AUDIT_VERIFIERS,
        description="An hour of every trail held to its anchor (QS 9.1.2).",
    )
    audit_anchors = field(
        governance_resolvers.audit_anchors,
        AUDIT_VERIFIERS,
        description="The hourly anchors, newest first, to keep outside (QS 9.1.2).",
    )
    regulator_reads = field(
        governance_resolvers.regulator_reads,
        COMPLIANCE_STAFF,
        description="What regulators looked at (QS 9.4.1): compliance staff.",
    )
    pii_access_log = field(
        governance_resolvers.pii_access_log, PII_LOG_READERS, description="QS 9.4.1."
    )
    api_keys = field(account_resolvers.api_keys, p.PROVIDER)


@strawberry.type
class CoreMutation:
    register_consumer = mutation(account_resolvers.register_consumer)
    login = mutation(account_resolvers.login)
    refresh_access_token = mutation(account_resolvers.refresh_access_token)
    logout = mutation(account_resolvers.logout)
    create_api_key = mutation(account_resolvers.create_key, p.PROVIDER)
    revoke_api_key = mutation(account_resolvers.revoke_key, p.PROVIDER)
    set_account_active = mutation(
        account_resolvers.set_account_active,
        RULE_ADMINS,
        description="Deactivate or reactivate an account (admin duty); takes effect at once.",
    )
    place_order = mutation(order_resolvers.place_order, p.CONSUMER)
    pay_order = mutation(order_resolvers.pay_order, p.CONSUMER)
    confirm_payment = mutation(order_resolvers.confirm_payment, PAYMENT_PROVIDER)
    ship_order = mutation(order_resolvers.ship_order, p.MERCHANT)
    record_tracking_event = mutation(order_resolvers.record_tracking_event, p.PROVIDER)
    confirm_receipt = mutation(order_resolvers.confirm_receipt, p.CONSUMER)
    cancel_order = mutation(order_resolvers.cancel_order, ORDER_CANCELLERS)
    file_complaint = mutation(service_resolvers.file_complaint, p.CONSUMER)
    take_complaint = mutation(service_resolvers.take_complaint, p.CUSTOMER_SERVICE)
    handle_complaint = mutation(
        service_resolvers.handle_complaint, p.CUSTOMER_SERVICE, description="QS 9.2.4."
    )
    submit_feedback = mutation(
        service_resolvers.submit_feedback, FEEDBACK_AUTHORS, description="QS 10.2."
    )


@strawberry.type
class GradingQuery:
    merchant_warnings = field(
        grading_resolvers.merchant_warnings, READERS, description="QS 6.1.2, in scope."
    )
    platform_rule_history = field(
        grading_resolvers.platform_rule_history, description="Every version of a rule (QS 5.2)."
    )


@strawberry.type
class GradingMutation:
    acknowledge_warning = mutation(
        grading_resolvers.acknowledge_warning, WARNING_HANDLERS, description="QS 6.1.2."
    )
    publish_rule = mutation(grading_resolvers.publish_rule, RULE_ADMINS, description="QS 5.2.")


@strawberry.type
class QualificationQuery:
    merchant_licences = field(
        qualification_resolvers.merchant_licences,
        READERS,
        description="QS 6.1.1: a merchant's own, or all for compliance staff and regulators.",
    )
    brand_registrations = field(
        qualification_resolvers.brand_registrations, READERS, description="QS 6.1.1, in scope."
    )
    deposit_payments = field(
        qualification_resolvers.deposit_payments, READERS, description="QS 6.1.1, in scope."
    )


@strawberry.type
class QualificationMutation:
    submit_merchant_licence = mutation(
        qualification_resolvers.submit_merchant_licence,
        p.MERCHANT,
        description="QS 6.1.1: counts once verified, until it expires.",
    )
    submit_brand_registration = mutation(
        qualification_resolvers.submit_brand_registration,
        p.MERCHANT,
        description="QS 6.1.1: counts once verified, until it expires.",
    )
    submit_deposit_payment = mutation(
        qualification_resolvers.submit_deposit_payment,
        p.MERCHANT,
        description="QS 6.1.1: held once verified.",
    )
    review_submission = mutation(
        qualification_resolvers.review_submission,
        COMPLIANCE_STAFF,
        description="QS 6.1.1: verify or reject a licence, brand registration or deposit.",
    )
    onboard_merchant = mutation(
        qualification_resolvers.onboard_merchant,
        RULE_ADMINS,
        description="Open a merchant's shop and its first account (admin duty).",
    )


# Each area adds its own root-field classes here; they merge into one Query and Mutation.
QUERY_PARTS: tuple[type, ...] = (
    CoreQuery,
    GradingQuery,
    ViolationQuery,
    ProductQuery,
    QualificationQuery,
)
MUTATION_PARTS: tuple[type, ...] = (
    CoreMutation,
    GradingMutation,
    ViolationMutation,
    ProductMutation,
    QualificationMutation,
)

Query = merge_types("Query", QUERY_PARTS)
Mutation = merge_types("Mutation", MUTATION_PARTS)


def build_schema(
    settings: Settings | None = None, *, plans: bool = True, debug: bool | None = None
) -> strawberry.Schema:
    """The schema; ``plans=False`` gives graphql-core's stock executor, which the
    differential tests hold the planning executor against (schema/execution.py). The
    stock one is also used, with a warning, when the installed graphql-core or strawberry
    lack the internals the planning one relies on (schema/executor_compat.py)."""
    settings = settings or get_settings()
    debug = settings.debug if debug is None else debug
    # The limit rules are built once: validation results are cached per rule set, and the
    # limiters would make new classes on every request, so nothing would ever be cached.
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if not settings.introspection:
        limit_rules.append(NoSchemaIntrospectionCustomRule)
    documents = DocumentCache(
        DocumentLimits(
            max_tokens=settings.max_tokens,
            max_fragments=settings.max_fragments,
            max_fragment_depth=settings.max_fragment_depth,
            max_selection_nesting=settings.max_selection_nesting,
            max_input_depth=settings.max_input_depth,
            hide_suggestions=not settings.field_suggestions,
        )
    )
    extensions = [
        lambda: AddValidationRules(limit_rules),
        RequestGuard,
        lambda: CheckedDocuments(documents, settings.max_string_length, settings.max_input_depth),
        FlushAccessLog,
        RecordRegulatorReads,
    ]
    if not debug:
        extensions.append(MaskInternalErrors)
    return PinzhiSchema(
        query=Query,
        mutation=Mutation,
        types=[
            Account,
            ApiKey,
            Merchant,
            Product,
            ServiceProvider,
            Order,
            Payment,
            Shipment,
            Complaint,
            Feedback,
            MerchantLicence,
            BrandRegistration,
            DepositPayment,
        ],
        extensions=extensions,
        execution_context_class=planning_executor() if plans else None,
        hide_suggestions=not settings.field_suggestions,
    )


schema = build_schema()
