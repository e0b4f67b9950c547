"""The one schema: every graph's types, the Query, Mutation and Subscription roots, and the
guards.

Types live in ``pinzhi.schema.<graph>``, root fields in ``pinzhi.schema.roots.<graph>``;
both build on ``pinzhi.resolvers`` (context, loaders, pages) and never the other way.
"""

from __future__ import annotations

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, QueryDepthLimiter
from strawberry.tools import merge_types

from pinzhi.schema.accounts import Account, ApiKey
from pinzhi.schema.after_sales import AfterSalesRequest, Refund, ReturnShipment
from pinzhi.schema.bulky import InstallationAppointment, TradeIn
from pinzhi.schema.catalog import Merchant, Product, ServiceProvider
from pinzhi.schema.disputes import Dispute, DisputeOffer
from pinzhi.schema.documents import DocumentCache, DocumentLimits
from pinzhi.schema.errors import MaskInternalErrors, PinzhiSchema
from pinzhi.schema.execution import planning_executor
from pinzhi.schema.extensions import (
    CheckedDocuments,
    FlushAccessLog,
    OperationContext,
    RecordRegulatorReads,
    RequestGuard,
)
from pinzhi.schema.feedback import Feedback
from pinzhi.schema.orders import Order, Payment, Shipment
from pinzhi.schema.qualifications import BrandRegistration, DepositPayment, MerchantLicence
from pinzhi.schema.roots.accounts import AccountMutation, AccountQuery
from pinzhi.schema.roots.after_sales import AfterSalesMutation, AfterSalesQuery
from pinzhi.schema.roots.bulky import BulkyMutation, BulkyQuery
from pinzhi.schema.roots.calls import CallMutation, CallQuery
from pinzhi.schema.roots.catalog import CatalogQuery
from pinzhi.schema.roots.customer_service import (
    CustomerServiceMutation,
    CustomerServiceQuery,
    CustomerServiceSubscription,
)
from pinzhi.schema.roots.disputes import DisputeMutation, DisputeQuery
from pinzhi.schema.roots.fund import FundMutation, FundQuery
from pinzhi.schema.roots.governance import GovernanceQuery
from pinzhi.schema.roots.grading import GradingMutation, GradingQuery
from pinzhi.schema.roots.intents import IntentQuery
from pinzhi.schema.roots.node import NodeQuery
from pinzhi.schema.roots.notifications import NotificationMutation, NotificationQuery
from pinzhi.schema.roots.orders import OrderMutation, OrderQuery
from pinzhi.schema.roots.products import ProductMutation, ProductQuery
from pinzhi.schema.roots.qualifications import QualificationMutation, QualificationQuery
from pinzhi.schema.roots.service import ServiceMutation, ServiceQuery
from pinzhi.schema.roots.staff import StaffMutation, StaffQuery
from pinzhi.schema.roots.training import TrainingMutation, TrainingQuery
from pinzhi.schema.roots.violations import ViolationMutation, ViolationQuery
from pinzhi.schema.service import Complaint
from pinzhi.schema.staff import PostAssignment, StaffMember
from pinzhi.settings import Settings, get_settings

# Each graph's root-field classes (schema/roots/) merge into one Query and one Mutation.
QUERY_PARTS: tuple[type, ...] = (
    AccountQuery,
    NodeQuery,
    CatalogQuery,
    GovernanceQuery,
    OrderQuery,
    ServiceQuery,
    GradingQuery,
    ViolationQuery,
    TrainingQuery,
    ProductQuery,
    QualificationQuery,
    # After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
    NotificationQuery,
    AfterSalesQuery,
    FundQuery,
    DisputeQuery,
    BulkyQuery,
    # Customer-service chat (QS 9.2.2, 9.7.2)
    CustomerServiceQuery,
    # The phone queue (QS 9.2.2)
    CallQuery,
    # Intent recognition (QS 9.7.1)
    IntentQuery,
    # Staff posts and their qualification (QS 9.3.1-9.3.4)
    StaffQuery,
)
MUTATION_PARTS: tuple[type, ...] = (
    AccountMutation,
    OrderMutation,
    ServiceMutation,
    GradingMutation,
    # After-sales sweep and timeliness (QS 9.2.1, 9.2.3)
    NotificationMutation,
    ViolationMutation,
    TrainingMutation,
    ProductMutation,
    QualificationMutation,
    AfterSalesMutation,
    FundMutation,
    DisputeMutation,
    BulkyMutation,
    # Customer-service chat (QS 9.2.2, 9.7.2)
    CustomerServiceMutation,
    # The phone queue (QS 9.2.2)
    CallMutation,
    # Staff posts and their qualification (QS 9.3.1-9.3.4)
    StaffMutation,
)

# Subscriptions run over the websocket at /graphql (graphql-transport-ws, app.py).
SUBSCRIPTION_PARTS: tuple[type, ...] = (
    # Customer-service chat (QS 9.2.2, 9.7.2)
    CustomerServiceSubscription,
)

Query = merge_types("Query", QUERY_PARTS)
Mutation = merge_types("Mutation", MUTATION_PARTS)
Subscription = merge_types("Subscription", SUBSCRIPTION_PARTS)


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
        OperationContext,
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
        subscription=Subscription,
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
            AfterSalesRequest,
            ReturnShipment,
            Refund,
            Dispute,
            DisputeOffer,
            InstallationAppointment,
            TradeIn,
            StaffMember,
            PostAssignment,
        ],
        extensions=extensions,
        execution_context_class=planning_executor() if plans else None,
        hide_suggestions=not settings.field_suggestions,
    )


schema = build_schema()
