"""``node(id)``: any object by its global id, through the same scoping as every list."""

from __future__ import annotations

import strawberry
from strawberry.types import Info
from tortoise.models import Model

from pinzhi import models
from pinzhi.schema.accounts import Account
from pinzhi.schema.after_sales import AfterSalesRequest, Refund, ReturnShipment
from pinzhi.schema.base import Node, NodeFromRow, from_global_id
from pinzhi.schema.bulky import InstallationAppointment, TradeIn
from pinzhi.schema.catalog import Merchant, Product, ServiceProvider
from pinzhi.schema.customer_service import ServiceMessage, ServiceSession
from pinzhi.schema.disputes import Dispute, DisputeOffer
from pinzhi.schema.feedback import Feedback
from pinzhi.schema.fields import field
from pinzhi.schema.fund import FundAccount, FundPayout, FundRecovery, FundTransaction
from pinzhi.schema.orders import Order, Payment, Shipment
from pinzhi.schema.qualifications import SUBMISSION_TYPES
from pinzhi.schema.service import Complaint
from pinzhi.schema.staff import PostAssignment, StaffMember
from pinzhi.schema.training import Course, Enrolment
from pinzhi.schema.violations import ViolationCase

NODE_TYPES: dict[str, type[Model]] = {
    "Merchant": models.Merchant,
    "Product": models.Product,
    "ServiceProvider": models.ServiceProvider,
    "Order": models.Order,
    "Payment": models.Payment,
    "Shipment": models.Shipment,
    "Complaint": models.Complaint,
    "Feedback": models.Feedback,
    "Account": models.Account,
    "ViolationCase": models.ViolationCase,
    "Course": models.Course,
    "Enrolment": models.Enrolment,
    "MerchantLicence": models.MerchantLicence,
    "BrandRegistration": models.BrandRegistration,
    "DepositPayment": models.DepositPayment,
    "AfterSalesRequest": models.AfterSalesRequest,
    "ReturnShipment": models.ReturnShipment,
    "Refund": models.Refund,
    "FundAccount": models.FundAccount,
    "FundTransaction": models.FundTransaction,
    "FundPayout": models.FundPayout,
    "FundRecovery": models.FundRecovery,
    "Dispute": models.Dispute,
    "DisputeOffer": models.DisputeOffer,
    "InstallationAppointment": models.InstallationAppointment,
    "TradeIn": models.TradeIn,
    "ServiceSession": models.ServiceSession,
    "ServiceMessage": models.ServiceMessage,
    "StaffProfile": models.StaffProfile,
    "PostAssignment": models.PostAssignment,
}


async def node(info: Info, id: strawberry.ID) -> Node | None:
    decoded = from_global_id(id)
    if decoded is None or decoded[0] not in NODE_TYPES:
        return None
    type_name, pk = decoded
    load = info.context.loaders.for_model(NODE_TYPES[type_name])
    row = await load(pk) if load else None
    if row is None:
        return None
    if type_name == "Account":
        return Account.from_row(row)
    simple: dict[str, NodeFromRow[Node]] = {
        "Order": Order,
        "Merchant": Merchant,
        "Product": Product,
        "ServiceProvider": ServiceProvider,
        "Payment": Payment,
        "Shipment": Shipment,
        "Complaint": Complaint,
        "Feedback": Feedback,
        "ViolationCase": ViolationCase,
        "Course": Course,
        "Enrolment": Enrolment,
        "AfterSalesRequest": AfterSalesRequest,
        "ReturnShipment": ReturnShipment,
        "Refund": Refund,
        "Dispute": Dispute,
        "DisputeOffer": DisputeOffer,
        "InstallationAppointment": InstallationAppointment,
        "TradeIn": TradeIn,
        **{name: node for name, (_, node) in SUBMISSION_TYPES.items()},
        "FundAccount": FundAccount,
        "FundTransaction": FundTransaction,
        "FundPayout": FundPayout,
        "FundRecovery": FundRecovery,
        "ServiceSession": ServiceSession,
        "ServiceMessage": ServiceMessage,
        "StaffProfile": StaffMember,
        "PostAssignment": PostAssignment,
    }
    return simple[type_name].from_row(row)


@strawberry.type
class NodeQuery:
    node = field(node, description="Any object by id; null if missing or out of scope.")
