"""All configuration, read from environment variables and validated at start.

Every setting has a safe development default, except that production mode refuses the
demo secrets: a server started with ``PINZHI_ENV=production`` must be given its own token
secret and data-encryption key.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tortoise.backends.base.config_generator import expand_db_url

# Development-only secrets. Production refuses to start while either is in use.
DEMO_TOKEN_SECRET = "pinzhi-demo-token-secret-do-not-use-in-production"
DEMO_DATA_KEY = base64.urlsafe_b64encode(b"pinzhi-demo-data-key-32-bytes!!!").decode()

MODEL_MODULES = ["pinzhi.models"]


class SettingsError(ValueError):
    """Configuration that the server refuses to start with."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = "sqlite://pinzhi.sqlite3"
    cache_url: str = "memory://"
    token_secret: str = DEMO_TOKEN_SECRET
    data_key: str = DEMO_DATA_KEY
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    max_body_bytes: int = 256 * 1024
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    # Bounds checked before validation, without recursion: graphql-core's rules and
    # strawberry's depth limiter recurse through fragments and nested values.
    max_fragments: int = 100
    max_fragment_depth: int = 16
    max_selection_nesting: int = 32
    max_input_depth: int = 16
    # Every string input, literal or variable, at any depth (services keep tighter limits).
    max_string_length: int = 10_000
    max_page_size: int = 100
    debug: bool = False
    # Off in production unless switched on: they show the schema to anyone who asks.
    introspection: bool = True
    field_suggestions: bool = True
    graphiql: bool = True
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def validate(self) -> Settings:
        if self.env not in {"development", "test", "production"}:
            raise SettingsError(f"PINZHI_ENV must be development, test or production: {self.env}")
        scheme = self.database_url.split("://", 1)[0]
        if scheme not in {"sqlite", "postgres", "asyncpg", "psycopg"}:
            raise SettingsError(f"DATABASE_URL must be sqlite:// or postgres://, not {scheme}://")
        if self.cache_url.split("://", 1)[0] not in {"memory", "redis"}:
            raise SettingsError("CACHE_URL must be memory:// or redis://")
        try:
            if len(base64.urlsafe_b64decode(self.data_key.encode())) != 32:
                raise ValueError
        except ValueError as exc:
            raise SettingsError("PINZHI_DATA_KEY must be 32 bytes, url-safe base64") from exc
        if len(self.token_secret) < 32:
            raise SettingsError("PINZHI_TOKEN_SECRET must be at least 32 characters")
        if self.is_production:
            if self.token_secret == DEMO_TOKEN_SECRET or self.data_key == DEMO_DATA_KEY:
                raise SettingsError("production mode refuses the demo secrets; set your own")
            if self.debug:
                raise SettingsError("PINZHI_DEBUG must be off in production")
        for name in (
            "access_token_minutes",
            "refresh_token_days",
            "max_body_bytes",
            "max_string_length",
        ):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be positive")
        return self


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingsError(f"{name} must be on or off (1/0, true/false, yes/no), got {raw!r}")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    origins = tuple(
        o.strip() for o in env.get("PINZHI_ALLOWED_ORIGINS", "").split(",") if o.strip()
    )
    mode = env.get("PINZHI_ENV", "development")
    # What shows the schema to strangers is on while developing, off in production.
    developing = mode != "production"
    return Settings(
        env=mode,
        database_url=env.get("DATABASE_URL") or "sqlite://pinzhi.sqlite3",
        cache_url=env.get("CACHE_URL") or "memory://",
        token_secret=env.get("PINZHI_TOKEN_SECRET") or DEMO_TOKEN_SECRET,
        data_key=env.get("PINZHI_DATA_KEY") or DEMO_DATA_KEY,
        access_token_minutes=_int(env, "PINZHI_ACCESS_TOKEN_MINUTES", 15),
        refresh_token_days=_int(env, "PINZHI_REFRESH_TOKEN_DAYS", 30),
        max_body_bytes=_int(env, "PINZHI_MAX_BODY_BYTES", 256 * 1024),
        max_string_length=_int(env, "PINZHI_MAX_STRING_LENGTH", 10_000),
        debug=_bool(env, "PINZHI_DEBUG", False),
        introspection=_bool(env, "PINZHI_INTROSPECTION", developing),
        field_suggestions=_bool(env, "PINZHI_FIELD_SUGGESTIONS", developing),
        graphiql=_bool(env, "PINZHI_GRAPHIQL", developing),
        allowed_origins=origins,
    ).validate()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def tortoise_config(database_url: str) -> dict:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "pinzhi.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# PostgreSQL plans a prepared statement for its actual parameters at first, but after five
# executions it may switch to one generic plan made for an average merchant, which for a
# large one reads all its orders to scope a page's order lines: 84 ms instead of 13 ms per
# orders page at benchmark scale 10 (docs/PERFORMANCE.md). Tenants are never average, so
# the planner is always given the values.
POSTGRES_SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


def _connection(database_url: str) -> str | dict:
    config = expand_db_url(database_url)
    if config["engine"] != "tortoise.backends.asyncpg":
        return database_url
    config["credentials"]["server_settings"] = dict(POSTGRES_SERVER_SETTINGS)
    return config


# Read by the `tortoise` command line (pyproject's [tool.tortoise]).
TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL") or "sqlite://pinzhi.sqlite3")

PROJECT_ROOT = Path(__file__).resolve().parent
