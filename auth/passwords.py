"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pinzhi.settings import get_settings

# The test environment hashes with argon2id's minimum cost so that suites creating many
# accounts stay fast; every other environment uses the library's recommended parameters.
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    if get_settings().env == "test"
    else PasswordHasher()
)

# Verifying against this keeps the time of a login for an unknown email the same as for a
# known one, so response time does not reveal which emails are registered.
_DUMMY_HASH = _hasher.hash("pinzhi-timing-equaliser")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
