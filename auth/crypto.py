"""Field encryption for personal information at rest (QS 9.4.1)."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from pinzhi.settings import get_settings


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(plain: str) -> str:
    if plain == "":
        return ""
    return _fernet(get_settings().data_key).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    if token == "":
        return ""
    try:
        return _fernet(get_settings().data_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # A wrong key or an edited cipher text: never return garbage as if it were data.
        raise ValueError("encrypted field cannot be read with the configured key") from exc


@lru_cache(maxsize=16)
def _purpose_key(data_key: str, purpose: str) -> bytes:
    # One key per purpose, derived from the data key: a hash made for e-mail lookup can
    # never be compared with one made for request fingerprints.
    return hmac.new(data_key.encode(), f"pinzhi:{purpose}".encode(), hashlib.sha256).digest()


def email_lookup(normalised_email: str) -> str:
    """The keyed hash an account is found by at login: the e-mail itself is stored only
    encrypted."""
    return keyed_hash("email", normalised_email)


def keyed_hash(purpose: str, value: str) -> str:
    """A keyed SHA-256 of ``value`` (hex): equal values give equal hashes, and without the
    data key nobody can test a guess, as they could against a plain hash of a phone number."""
    key = _purpose_key(get_settings().data_key, purpose)
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
