"""Opaque global ids (Relay): ``base64("Type:pk")``. Decoded here, in the resolvers, so that
services take plain ints; encoded by the schema's types."""

from __future__ import annotations

import base64
import binascii

import strawberry

MAX_PK = 2**31 - 1


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode())


def from_global_id(global_id: str | None) -> tuple[str, int] | None:
    """Decode an opaque id; None when it is not one of ours (treated like a missing id)."""
    if not global_id or len(global_id) > 100:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id.encode()).decode()
        type_name, _, pk = raw.partition(":")
        value = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not type_name or value <= 0 or value > MAX_PK:
        return None
    if pk != str(value):
        # One object, one id: "Payment:060", "Payment: 60" or "Payment:６０" were never issued.
        return None
    return type_name, value


def pk_of(global_id: str | None, type_name: str) -> int | None:
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != type_name:
        return None
    return decoded[1]


def pk_or_missing(global_id: str | None, type_name: str) -> int:
    """The pk of an id, or 0 (which no row has) for one that is not of ``type_name``: the
    service then answers NOT_FOUND, exactly as for a missing row."""
    return pk_of(global_id, type_name) or 0
