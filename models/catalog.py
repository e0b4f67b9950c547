"""Merchants and their products."""

from tortoise import fields
from tortoise.models import Model


class Merchant(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    description = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "merchant"


class Product(Model):
    id = fields.IntField(primary_key=True)
    merchant = fields.ForeignKeyField(
        "models.Merchant", related_name="products", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=200)
    category = fields.CharField(max_length=50, db_index=True)
    # Money is integer minor units plus an ISO 4217 currency.
    price_minor = fields.BigIntField()
    currency = fields.CharField(max_length=3, default="CNY")
    stock = fields.IntField(default=0)
    is_listed = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "product"
