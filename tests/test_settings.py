"""Configuration: defaults, validation and production's refusal of the demo secrets."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from pinzhi import cli
from pinzhi.settings import (
    DEMO_DATA_KEY,
    DEMO_TOKEN_SECRET,
    Settings,
    SettingsError,
    get_settings,
    load_settings,
    tortoise_config,
)

OWN_SECRET = "an-operator-chosen-token-secret-of-some-length"
OWN_KEY = base64.urlsafe_b64encode(b"o" * 32).decode()


def test_defaults_are_valid() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.env == "development" and not settings.is_production
    assert settings.database_url == "sqlite://pinzhi.sqlite3"
    assert settings.cache_url == "memory://"
    assert settings.token_secret == DEMO_TOKEN_SECRET
    assert settings.data_key == DEMO_DATA_KEY
    assert settings.max_body_bytes == 256 * 1024
    assert (settings.max_query_depth, settings.max_aliases, settings.max_tokens) == (12, 30, 4000)
    assert settings.debug is False
    assert settings.allowed_origins == ()
    assert settings.max_string_length == 10_000
    assert (settings.introspection, settings.field_suggestions, settings.graphiql) == (
        True,
        True,
        True,
    )


def test_values_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "PINZHI_ENV": "test",
            "DATABASE_URL": "postgres://u:p@db:5432/pinzhi",
            "CACHE_URL": "redis://cache:6379/1",
            "PINZHI_ACCESS_TOKEN_MINUTES": "5",
            "PINZHI_REFRESH_TOKEN_DAYS": "7",
            "PINZHI_MAX_BODY_BYTES": "1024",
            "PINZHI_DEBUG": "true",
            "PINZHI_ALLOWED_ORIGINS": " https://a.example , ,https://b.example",
        }
    )
    assert settings.env == "test"
    assert settings.database_url == "postgres://u:p@db:5432/pinzhi"
    assert settings.cache_url == "redis://cache:6379/1"
    assert (settings.access_token_minutes, settings.refresh_token_days) == (5, 7)
    assert settings.max_body_bytes == 1024
    assert settings.debug is True
    assert settings.allowed_origins == ("https://a.example", "https://b.example")


def test_empty_values_fall_back_to_defaults() -> None:
    settings = load_settings({"DATABASE_URL": "", "PINZHI_MAX_BODY_BYTES": "", "CACHE_URL": ""})
    assert settings.database_url == "sqlite://pinzhi.sqlite3"
    assert settings.max_body_bytes == 256 * 1024
    assert settings.cache_url == "memory://"


@pytest.mark.parametrize(
    "secrets",
    [
        {},
        {"PINZHI_TOKEN_SECRET": OWN_SECRET},
        {"PINZHI_DATA_KEY": OWN_KEY},
        {"PINZHI_TOKEN_SECRET": DEMO_TOKEN_SECRET, "PINZHI_DATA_KEY": OWN_KEY},
    ],
    ids=["both-demo", "demo-key", "demo-secret", "demo-secret-explicit"],
)
def test_production_refuses_the_demo_secrets(secrets: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="demo secrets"):
        load_settings({"PINZHI_ENV": "production", **secrets})


def test_production_with_its_own_secrets_is_fine() -> None:
    settings = load_settings(
        {"PINZHI_ENV": "production", "PINZHI_TOKEN_SECRET": OWN_SECRET, "PINZHI_DATA_KEY": OWN_KEY}
    )
    assert settings.is_production
    assert settings.token_secret == OWN_SECRET and settings.data_key == OWN_KEY


def test_production_refuses_debug() -> None:
    with pytest.raises(SettingsError, match="PINZHI_DEBUG"):
        load_settings(
            {
                "PINZHI_ENV": "production",
                "PINZHI_TOKEN_SECRET": OWN_SECRET,
                "PINZHI_DATA_KEY": OWN_KEY,
                "PINZHI_DEBUG": "1",
            }
        )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PINZHI_ENV": "staging"}, "PINZHI_ENV"),
        ({"DATABASE_URL": "mysql://root@localhost/pinzhi"}, "DATABASE_URL"),
        ({"DATABASE_URL": "pinzhi.sqlite3"}, "DATABASE_URL"),
        ({"CACHE_URL": "memcached://localhost:11211"}, "CACHE_URL"),
        ({"CACHE_URL": "localhost:6379"}, "CACHE_URL"),
        ({"PINZHI_TOKEN_SECRET": "x" * 31}, "PINZHI_TOKEN_SECRET"),
        ({"PINZHI_DATA_KEY": base64.urlsafe_b64encode(b"k" * 16).decode()}, "PINZHI_DATA_KEY"),
        ({"PINZHI_DATA_KEY": "not base64 at all!"}, "PINZHI_DATA_KEY"),
        ({"PINZHI_DATA_KEY": "a"}, "PINZHI_DATA_KEY"),
        ({"PINZHI_DATA_KEY": "密钥"}, "PINZHI_DATA_KEY"),
        ({"PINZHI_MAX_BODY_BYTES": "lots"}, "PINZHI_MAX_BODY_BYTES"),
        ({"PINZHI_MAX_BODY_BYTES": "1.5"}, "PINZHI_MAX_BODY_BYTES"),
        ({"PINZHI_MAX_BODY_BYTES": "0"}, "max_body_bytes"),
        ({"PINZHI_ACCESS_TOKEN_MINUTES": "-5"}, "access_token_minutes"),
        ({"PINZHI_REFRESH_TOKEN_DAYS": "soon"}, "PINZHI_REFRESH_TOKEN_DAYS"),
        ({"PINZHI_MAX_STRING_LENGTH": "long"}, "PINZHI_MAX_STRING_LENGTH"),
        ({"PINZHI_MAX_STRING_LENGTH": "0"}, "max_string_length"),
        ({"PINZHI_INTROSPECTION": "maybe"}, "PINZHI_INTROSPECTION"),
        ({"PINZHI_FIELD_SUGGESTIONS": "2"}, "PINZHI_FIELD_SUGGESTIONS"),
        ({"PINZHI_GRAPHIQL": "enabled"}, "PINZHI_GRAPHIQL"),
        ({"PINZHI_DEBUG": "sometimes"}, "PINZHI_DEBUG"),
    ],
)
def test_bad_values_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


PRODUCTION = {
    "PINZHI_ENV": "production",
    "PINZHI_TOKEN_SECRET": OWN_SECRET,
    "PINZHI_DATA_KEY": OWN_KEY,
}
SCHEMA_SHOWING = {
    "introspection": "PINZHI_INTROSPECTION",
    "field_suggestions": "PINZHI_FIELD_SUGGESTIONS",
    "graphiql": "PINZHI_GRAPHIQL",
}


@pytest.mark.parametrize(("name", "variable"), SCHEMA_SHOWING.items())
def test_what_shows_the_schema_is_off_in_production_unless_switched_on(
    name: str, variable: str
) -> None:
    assert getattr(load_settings({"PINZHI_ENV": "test"}), name) is True
    assert getattr(load_settings(PRODUCTION), name) is False
    for word in ("1", "true", "YES", "on"):
        assert getattr(load_settings({**PRODUCTION, variable: word}), name) is True
    for word in ("0", "false", "No", "off"):
        assert getattr(load_settings({variable: word}), name) is False
    assert getattr(load_settings({**PRODUCTION, variable: ""}), name) is False


def test_the_string_limit_is_read_from_the_environment() -> None:
    assert load_settings({"PINZHI_MAX_STRING_LENGTH": "500"}).max_string_length == 500


def test_a_token_secret_of_32_characters_is_enough() -> None:
    assert load_settings({"PINZHI_TOKEN_SECRET": "x" * 32}).token_secret == "x" * 32


@pytest.mark.parametrize("scheme", ["sqlite", "postgres", "asyncpg", "psycopg"])
def test_supported_database_schemes(scheme: str) -> None:
    url = f"{scheme}://localhost/pinzhi"
    assert load_settings({"DATABASE_URL": url}).database_url == url


def test_tortoise_config_uses_the_url_and_the_migrations() -> None:
    config = tortoise_config("sqlite://:memory:")
    assert config["connections"] == {"default": "sqlite://:memory:"}
    assert config["apps"]["models"]["models"] == ["pinzhi.models"]
    assert config["apps"]["models"]["migrations"] == "pinzhi.migrations"
    assert config["use_tz"] is True and config["timezone"] == "UTC"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Let a test change the environment; the cached settings are rebuilt around it."""
    get_settings.cache_clear()
    try:
        yield
    finally:
        get_settings.cache_clear()


def test_serve_refuses_to_start_in_production_with_demo_secrets(
    monkeypatch, capsys, fresh_settings
) -> None:
    monkeypatch.setenv("PINZHI_ENV", "production")
    monkeypatch.delenv("PINZHI_TOKEN_SECRET", raising=False)
    monkeypatch.delenv("PINZHI_DATA_KEY", raising=False)
    served: list[object] = []
    monkeypatch.setattr(cli, "_serve", lambda *args: served.append(args))

    assert cli.main(["serve"]) == 2
    assert served == []
    assert "configuration error" in capsys.readouterr().err


def test_migrate_refuses_a_bad_database_url(monkeypatch, capsys, fresh_settings) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/pinzhi")
    assert cli.main(["migrate"]) == 2
    assert "DATABASE_URL" in capsys.readouterr().err


def test_settings_are_restored_after_the_environment_changes(fresh_settings) -> None:
    # Whatever the tests above did, the rest of the suite gets sane settings back.
    assert not get_settings().is_production
    assert get_settings().token_secret == load_settings().token_secret
    assert get_settings() is get_settings()


def test_postgres_connections_are_planned_for_their_actual_parameters() -> None:
    connection = tortoise_config("postgres://postgres@127.0.0.1:5432/shop?maxsize=8")
    default = connection["connections"]["default"]
    assert default["credentials"]["server_settings"] == {"plan_cache_mode": "force_custom_plan"}
    assert default["credentials"]["maxsize"] == "8"  # the URL's options are kept
    assert default["credentials"]["database"] == "shop"
    sqlite = tortoise_config("sqlite://:memory:")["connections"]["default"]
    assert sqlite == "sqlite://:memory:"
