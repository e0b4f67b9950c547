"""Field encryption for personal information at rest (QS 9.4.1)."""

from __future__ import annotations

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
