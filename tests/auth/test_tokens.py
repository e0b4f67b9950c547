"""Identity through the API: registration, login, token rotation, bearer checks, API keys
and the login throttle."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jwt
import pytest

from pinzhi.auth import throttle, tokens
from pinzhi.auth.api_keys import KEY_PREFIX
from pinzhi.auth.tokens import ALGORITHM, ISSUER
from pinzhi.models import Account, ApiKey, ProviderKind, RefreshToken
from pinzhi.services import accounts
from pinzhi.settings import get_settings
from tests import factories as f

REGISTER = """
mutation($input: RegisterConsumerInput!) {
  registerConsumer(input: $input) { account { id email role } errors { code field message } }
}"""
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    accessToken refreshToken accessTokenExpiresAt errors { code field message }
  }
}"""
REFRESH = """
mutation($token: String!) {
  refreshAccessToken(refreshToken: $token) { accessToken refreshToken errors { code field } }
}"""
LOGOUT = """
mutation($token: String!) { logout(refreshToken: $token) { revoked errors { code field } } }"""
ME = "{ me { id email role } }"
CREATE_KEY = """
mutation($label: String!) {
  createApiKey(label: $label) { apiKey { id label prefix revokedAt } secret errors { code } }
}"""
REVOKE_KEY = """
mutation($id: ID!) { revokeApiKey(apiKeyId: $id) { revoked errors { code field } } }"""


def _registration(**overrides: str) -> dict[str, dict[str, str]]:
    values = {
        "email": "new.buyer@example.com",
        "password": "long enough password",
        "name": "王五",
        "phone": "13700001111",
    }
    values.update(overrides)
    return {"input": values}


async def _login(api, email: str, password: str = f.PASSWORD):  # type: ignore[no-untyped-def]
    return await api(LOGIN, {"email": email, "password": password})


# --- registration -------------------------------------------------------------------------


async def test_register_consumer_then_log_in_and_read_me(api) -> None:
    registered = await api(REGISTER, _registration(email="  New.Buyer@Example.com "))
    payload = registered.data["registerConsumer"]
    assert payload["errors"] == []
    # Not yet logged in, the caller is nobody: the new account's e-mail, like its name and
    # phone, is masked until its owner reads it (QS 9.4.1).
    assert payload["account"]["email"] == "n***@example.com"
    assert payload["account"]["role"] == "CONSUMER"

    logged_in = await _login(api, "NEW.BUYER@example.com", "long enough password")
    tokens = logged_in.data["login"]
    assert tokens["errors"] == []
    assert tokens["accessToken"].count(".") == 2  # a JWT
    assert len(tokens["refreshToken"]) >= 32
    expires = datetime.fromisoformat(tokens["accessTokenExpiresAt"])
    minutes = get_settings().access_token_minutes
    assert (
        timedelta(minutes=minutes - 1) < expires - datetime.now(UTC) <= timedelta(minutes=minutes)
    )

    me = await api(ME, token=tokens["accessToken"])
    assert me.data["me"]["role"] == "CONSUMER"
    assert me.data["me"]["email"] == "new.buyer@example.com"
    assert me.data["me"]["id"] == payload["account"]["id"]


async def test_anonymous_me_is_null(api) -> None:
    assert (await api(ME)).data == {"me": None}


async def test_register_refuses_a_weak_password(api) -> None:
    result = await api(REGISTER, _registration(password="short"))
    payload = result.data["registerConsumer"]
    assert payload["account"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("WEAK_PASSWORD", ["password"])]
    assert await accounts.find_by_email("new.buyer@example.com") is None


async def test_register_refuses_a_taken_email_whatever_its_case(api) -> None:
    first = await api(REGISTER, _registration())
    assert first.data["registerConsumer"]["errors"] == []
    again = await api(REGISTER, _registration(email="NEW.Buyer@EXAMPLE.com"))
    payload = again.data["registerConsumer"]
    assert payload["account"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("EMAIL_TAKEN", ["email"])]
    assert await accounts.find_by_email("new.buyer@example.com") is not None
    assert await Account.filter(role="CONSUMER").count() == 1


@pytest.mark.parametrize("phone", ["12345", "call me maybe", "138-1234-567x", ""])
async def test_register_refuses_a_bad_phone(api, phone: str) -> None:
    result = await api(REGISTER, _registration(phone=phone))
    payload = result.data["registerConsumer"]
    assert payload["account"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", ["phone"])]
    assert await Account.all().count() == 0


# --- login, refresh, logout ---------------------------------------------------------------


async def test_wrong_password_is_a_payload_error(api) -> None:
    buyer = await f.consumer()
    result = await _login(api, buyer.email, "not the password")
    payload = result.data["login"]
    assert payload["accessToken"] is None and payload["refreshToken"] is None
    assert [e["code"] for e in payload["errors"]] == ["INVALID_CREDENTIALS"]
    # An unknown email fails the same way, revealing nothing.
    unknown = await _login(api, "nobody@example.com", "not the password")
    assert unknown.data["login"]["errors"] == payload["errors"]


async def test_login_message_follows_accept_language(api) -> None:
    buyer = await f.consumer()
    english = await api(
        LOGIN,
        {"email": buyer.email, "password": "wrong password"},
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert english.data["login"]["errors"][0]["message"] == "Wrong email or password"
    chinese = await _login(api, buyer.email, "wrong password")
    assert chinese.data["login"]["errors"][0]["message"] == "邮箱或密码错误"


async def test_login_tokens_carry_the_role(api) -> None:
    shop, seller = await f.merchant()
    tokens = (await _login(api, seller.email)).data["login"]
    me = await api(ME, token=tokens["accessToken"])
    assert me.data["me"]["role"] == "MERCHANT"
    claims = jwt.decode(
        tokens["accessToken"], get_settings().token_secret, algorithms=[ALGORITHM], issuer=ISSUER
    )
    assert claims["role"] == "MERCHANT" and claims["mid"] == shop.id
    assert claims["sub"] == str(seller.account.id) and claims["typ"] == "access"


async def test_refresh_rotates_and_a_replayed_token_revokes_the_family(api) -> None:
    buyer = await f.consumer()
    first = (await _login(api, buyer.email)).data["login"]

    rotated = (await api(REFRESH, {"token": first["refreshToken"]})).data["refreshAccessToken"]
    assert rotated["errors"] == []
    assert rotated["refreshToken"] != first["refreshToken"]
    me = await api(ME, token=rotated["accessToken"])
    assert me.data["me"]["email"] == buyer.email

    # The first token was good once: presenting it again is a replay...
    replayed = (await api(REFRESH, {"token": first["refreshToken"]})).data["refreshAccessToken"]
    assert replayed["accessToken"] is None and replayed["refreshToken"] is None
    assert [(e["code"], e["field"]) for e in replayed["errors"]] == [
        ("INVALID_TOKEN", ["refreshToken"])
    ]
    # ...which revokes the whole login, so the newest token fails too.
    newest = (await api(REFRESH, {"token": rotated["refreshToken"]})).data["refreshAccessToken"]
    assert [e["code"] for e in newest["errors"]] == ["INVALID_TOKEN"]
    assert newest["accessToken"] is None
    rows = await RefreshToken.filter(account_id=buyer.account.id)
    assert len(rows) == 2 and all(r.revoked_at is not None for r in rows)


async def test_replay_revokes_only_that_login(api) -> None:
    buyer = await f.consumer()
    phone = (await _login(api, buyer.email)).data["login"]
    laptop = (await _login(api, buyer.email)).data["login"]
    await api(REFRESH, {"token": phone["refreshToken"]})
    await api(REFRESH, {"token": phone["refreshToken"]})  # replay: phone's family revoked
    still = (await api(REFRESH, {"token": laptop["refreshToken"]})).data["refreshAccessToken"]
    assert still["errors"] == [] and still["accessToken"]


async def test_unknown_refresh_token_is_refused(api) -> None:
    result = (await api(REFRESH, {"token": "no-such-token"})).data["refreshAccessToken"]
    assert [e["code"] for e in result["errors"]] == ["INVALID_TOKEN"]


async def test_expired_refresh_token_is_refused(api) -> None:
    buyer = await f.consumer()
    tokens = (await _login(api, buyer.email)).data["login"]
    await RefreshToken.filter(account_id=buyer.account.id).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    result = (await api(REFRESH, {"token": tokens["refreshToken"]})).data["refreshAccessToken"]
    assert [e["code"] for e in result["errors"]] == ["INVALID_TOKEN"]


async def test_logout_revokes_the_refresh_token(api) -> None:
    buyer = await f.consumer()
    tokens = (await _login(api, buyer.email)).data["login"]
    out = await api(LOGOUT, {"token": tokens["refreshToken"]}, token=tokens["accessToken"])
    assert out.data["logout"] == {"revoked": True, "errors": []}
    after = (await api(REFRESH, {"token": tokens["refreshToken"]})).data["refreshAccessToken"]
    assert [e["code"] for e in after["errors"]] == ["INVALID_TOKEN"]
    assert after["accessToken"] is None


async def test_logout_refuses_someone_elses_refresh_token(api) -> None:
    buyer = await f.consumer()
    other = await f.consumer("李四", "13987654321")
    tokens = (await _login(api, buyer.email)).data["login"]
    out = await api(LOGOUT, {"token": tokens["refreshToken"]}, token=other.token)
    assert out.data["logout"]["revoked"] is False
    assert [e["code"] for e in out.data["logout"]["errors"]] == ["INVALID_TOKEN"]
    # The owner's session is untouched.
    still = (await api(REFRESH, {"token": tokens["refreshToken"]})).data["refreshAccessToken"]
    assert still["errors"] == []


# --- bearer credentials that do not check out --------------------------------------------


def _token(secret: str, **changes: object) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": "1",
        "typ": "access",
        "role": "CONSUMER",
        "duties": "",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, ALGORITHM)


def _expired() -> str:
    past = datetime.now(UTC) - timedelta(hours=1)
    return _token(
        get_settings().token_secret,
        iat=int(past.timestamp()),
        exp=int((past + timedelta(minutes=15)).timestamp()),
    )


BAD_AUTHORIZATION = {
    "malformed": lambda: "Bearer not-a-jwt",
    "other_secret": lambda: "Bearer " + _token("another-secret-that-is-long-enough-to-sign-1"),
    "expired": lambda: "Bearer " + _expired(),
    "wrong_issuer": lambda: "Bearer " + _token(get_settings().token_secret, iss="someone-else"),
    "not_access": lambda: "Bearer " + _token(get_settings().token_secret, typ="refresh"),
    "unknown_role": lambda: "Bearer " + _token(get_settings().token_secret, role="EMPEROR"),
    "alg_none": lambda: (
        "Bearer "
        + jwt.encode({"iss": ISSUER, "sub": "1", "typ": "access", "role": "STAFF"}, None, "none")
    ),
    "basic": lambda: "Basic " + base64.b64encode(b"consumer@test.pinzhi:secret").decode(),
    "empty_bearer": lambda: "Bearer ",
}


@pytest.mark.parametrize("case", list(BAD_AUTHORIZATION))
async def test_bad_credentials_are_refused_before_execution(api, case: str) -> None:
    result = await api(ME, headers={"Authorization": BAD_AUTHORIZATION[case]()})
    assert result.body["data"] is None
    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_bad_credential_refuses_mutations_too(api) -> None:
    result = await api(REGISTER, _registration(), headers={"Authorization": "Bearer nope"})
    assert result.body["data"] is None
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert await Account.all().count() == 0


async def test_token_of_a_valid_shape_is_accepted(api) -> None:
    buyer = await f.consumer()
    token = _token(get_settings().token_secret, sub=str(buyer.account.id))
    assert (await api(ME, token=token)).data["me"]["email"] == buyer.email


# --- API keys ------------------------------------------------------------------------------


async def test_api_key_lifecycle(api) -> None:
    company, provider_actor, _ = await f.provider(ProviderKind.LOGISTICS)
    created = await api(CREATE_KEY, {"label": "warehouse"}, token=provider_actor.token)
    payload = created.data["createApiKey"]
    key = payload["secret"]
    assert payload["errors"] == []
    assert payload["apiKey"]["label"] == "warehouse"
    assert payload["apiKey"]["revokedAt"] is None
    assert key.startswith(f"{KEY_PREFIX}{payload['apiKey']['prefix']}_")

    # The key authenticates as the provider.
    me = await api("{ me { role } apiKeys { prefix label } }", token=key)
    assert me.data["me"]["role"] == "SERVICE_PROVIDER"
    assert {"prefix": payload["apiKey"]["prefix"], "label": "warehouse"} in me.data["apiKeys"]

    # Only a hash is stored: the secret is in no column of the row.
    secret = key.removeprefix(KEY_PREFIX).partition("_")[2]
    row = await ApiKey.get(prefix=payload["apiKey"]["prefix"])
    assert row.provider_id == company.id
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = await ApiKey.filter(id=row.id).values()
    assert all(secret not in str(value) for value in stored[0].values())
    assert all(key not in str(value) for value in stored[0].values())

    # The secret is never shown again.
    listed = await api("{ apiKeys { id prefix } }", token=provider_actor.token)
    assert key not in str(listed.body) and secret not in str(listed.body)

    revoked = await api(REVOKE_KEY, {"id": payload["apiKey"]["id"]}, token=provider_actor.token)
    assert revoked.data["revokeApiKey"] == {"revoked": True, "errors": []}
    refused = await api(ME, token=key)
    assert refused.body["data"] is None
    assert refused.error_codes == ["UNAUTHENTICATED"]


async def test_api_key_with_right_prefix_but_wrong_secret_is_refused(api) -> None:
    _, _, key = await f.provider(ProviderKind.PAYMENT)
    assert (await api(ME, token=key)).data["me"]["role"] == "SERVICE_PROVIDER"
    prefix = key.removeprefix(KEY_PREFIX).partition("_")[0]
    forged = f"{KEY_PREFIX}{prefix}_{'x' * 43}"
    result = await api(ME, token=forged)
    assert result.body["data"] is None
    assert result.error_codes == ["UNAUTHENTICATED"]
    for malformed in (f"{KEY_PREFIX}{prefix}", f"{KEY_PREFIX}_secret", f"{KEY_PREFIX}nope_x"):
        assert (await api(ME, token=malformed)).error_codes == ["UNAUTHENTICATED"]


async def test_revoking_another_providers_key_is_not_found(api) -> None:
    _, owner, owner_key = await f.provider(ProviderKind.LOGISTICS)
    _, stranger, _ = await f.provider(ProviderKind.LOGISTICS)
    row = await ApiKey.get(account_id=owner.account.id)
    result = await api(REVOKE_KEY, {"id": f.gid("ApiKey", row.id)}, token=stranger.token)
    assert result.data["revokeApiKey"]["revoked"] is False
    assert [e["code"] for e in result.data["revokeApiKey"]["errors"]] == ["NOT_FOUND"]
    assert (await api(ME, token=owner_key)).data["me"]["role"] == "SERVICE_PROVIDER"


async def test_only_service_providers_create_api_keys(api) -> None:
    buyer = await f.consumer()
    result = await api(CREATE_KEY, {"label": "x"}, token=buyer.token)
    assert result.error_codes == ["FORBIDDEN"]
    anonymous = await api(CREATE_KEY, {"label": "x"})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    assert await ApiKey.all().count() == 0


# --- login throttle ------------------------------------------------------------------------


async def test_repeated_failed_logins_are_throttled(api, monkeypatch) -> None:
    clock = SimpleNamespace(now=time.time())
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: clock.now))
    buyer = await f.consumer()
    for _ in range(throttle.FREE_ATTEMPTS):
        failed = await _login(api, buyer.email, "wrong password")
        assert [e["code"] for e in failed.data["login"]["errors"]] == ["INVALID_CREDENTIALS"]

    # Even the right password must wait now; the email's case does not matter.
    throttled = await _login(api, buyer.email.upper())
    assert throttled.body["data"] is None
    assert throttled.error_codes == ["THROTTLED"]
    assert throttled.errors[0]["extensions"]["retryAfter"] > 0

    clock.now += 2  # the first delay is 1 s
    ok = await _login(api, buyer.email)
    assert ok.data["login"]["errors"] == [] and ok.data["login"]["accessToken"]


async def _fail(cache, email: str, client: str, now: float) -> None:  # type: ignore[no-untyped-def]
    """One attempt that is let through and fails."""
    reservation = await throttle.reserve(cache, email, client, now=now)
    await throttle.record_failure(cache, reservation, now=now)


async def test_throttle_delay_doubles_and_expires(cache) -> None:
    email, client = "victim@example.com", "203.0.113.9"
    t = 1_000_000.0
    for i in range(throttle.FREE_ATTEMPTS):  # five failures are free
        await _fail(cache, email, client, t + i)
    delays = []
    last = t + throttle.FREE_ATTEMPTS - 1
    for _ in range(5):
        with pytest.raises(throttle.Throttled) as caught:
            await throttle.reserve(cache, email, client, now=last)
        assert caught.value.retry_after > 0
        # Measure the delay: the first instant at which an attempt is let through.
        delay = 0
        while True:
            delay += 1
            try:
                reservation = await throttle.reserve(cache, email, client, now=last + delay)
                break
            except throttle.Throttled:
                pass
        delays.append(delay)
        last += delay
        await throttle.record_failure(cache, reservation, now=last)
    assert delays == [1, 2, 4, 8, 16]


async def test_throttle_delay_is_capped(cache) -> None:
    t = 5_000.0
    for n in range(40):
        await _fail(cache, "a@example.com", "198.51.100.1", t + 15 * 60 * n)
    last = t + 15 * 60 * 39
    with pytest.raises(throttle.Throttled) as caught:
        await throttle.reserve(cache, "a@example.com", "198.51.100.1", now=last)
    assert caught.value.retry_after <= throttle.MAX_DELAY_SECONDS
    with pytest.raises(throttle.Throttled):
        await throttle.reserve(cache, "a@example.com", "198.51.100.1", now=last + 899)
    await throttle.reserve(cache, "a@example.com", "198.51.100.1", now=last + 900)


async def test_throttle_counts_per_email_and_per_client(cache) -> None:
    t = 10_000.0
    for _ in range(throttle.FREE_ATTEMPTS):
        await _fail(cache, "a@example.com", "192.0.2.1", t)
    # Another email from the same client is slowed down too...
    with pytest.raises(throttle.Throttled):
        await throttle.reserve(cache, "b@example.com", "192.0.2.1", now=t)
    # ...and the same email from another client...
    with pytest.raises(throttle.Throttled):
        await throttle.reserve(cache, "A@Example.com", "192.0.2.2", now=t)
    # ...but not an unrelated email from an unrelated client.
    await throttle.reserve(cache, "c@example.com", "192.0.2.3", now=t)
    # A success clears the email's count (the client's stays).
    success = await throttle.reserve(cache, "a@example.com", "192.0.2.4", now=t + 1)
    await throttle.record_success(cache, success, "a@example.com")
    await throttle.reserve(cache, "a@example.com", "192.0.2.2", now=t)


async def test_successful_logins_from_one_address_are_not_failures(cache) -> None:
    """Many people behind one address logging in rightly are never throttled."""
    for n in range(3 * throttle.FREE_ATTEMPTS):
        reservation = await throttle.reserve(cache, f"user{n}@example.com", "192.0.2.7", now=1.0)
        await throttle.record_success(cache, reservation, f"user{n}@example.com")
    await throttle.reserve(cache, "late@example.com", "192.0.2.7", now=1.0)


async def test_the_cache_holds_no_email_in_the_clear(cache) -> None:
    """QS 9.4.1: the throttle's keys name an email by its keyed hash only."""
    await _fail(cache, "Victim@Example.com", "192.0.2.9", 1.0)
    assert await cache.get(f"{throttle._email_key('victim@example.com')}:n") == 1
    assert "victim" not in throttle._email_key("victim@example.com")


SIMULTANEOUS = 60


@pytest.mark.parametrize("correct_at", [None, 30])
async def test_simultaneous_wrong_passwords_are_throttled_as_sequential_ones(
    api, correct_at: int | None
) -> None:
    """Sixty wrong passwords for one email at the same moment: exactly the free attempts
    reach the password check, the rest are THROTTLED, as sixty one after another would be;
    a correct password inside the burst does not slip through (it used to: all sixty were
    checked)."""
    buyer = await f.consumer()

    async def attempt(n: int):  # type: ignore[no-untyped-def]
        password = f.PASSWORD if n == correct_at else f"wrong password {n}"
        return await _login(api, buyer.email, password)

    results = await asyncio.gather(*(attempt(n) for n in range(SIMULTANEOUS)))

    checked = [r for r in results if r.body.get("data")]
    throttled = [r for r in results if r.error_codes == ["THROTTLED"]]
    assert len(checked) == throttle.FREE_ATTEMPTS
    assert len(throttled) == SIMULTANEOUS - throttle.FREE_ATTEMPTS
    assert not any(r.data["login"]["accessToken"] for r in checked if r.data["login"])


# --- verified tokens are remembered until they expire -------------------------------------


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    # Two seconds ahead: `exp` is whole seconds, so one second ahead can already be past
    # by the time a loaded machine verifies the token.
    expires = int(time.time()) + 2
    token = _token(get_settings().token_secret, exp=expires)
    assert tokens.viewer_from_access_token(token).account_id == 1  # verified, remembered
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(tokens.InvalidCredential):
        tokens.viewer_from_access_token(token)


def test_a_remembered_token_is_refused_under_another_secret(monkeypatch) -> None:
    token = _token(get_settings().token_secret)
    assert tokens.viewer_from_access_token(token).account_id == 1
    monkeypatch.setenv("PINZHI_TOKEN_SECRET", "a-rotated-secret-that-is-long-enough-1234")
    get_settings.cache_clear()
    try:
        with pytest.raises(tokens.InvalidCredential):
            tokens.viewer_from_access_token(token)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


@pytest.mark.parametrize("case", ["malformed", "other_secret", "expired", "not_access"])
def test_refused_tokens_are_not_remembered(case: str) -> None:
    credential = BAD_AUTHORIZATION[case]().removeprefix("Bearer ")
    for _ in range(2):
        with pytest.raises(tokens.InvalidCredential):
            tokens.viewer_from_access_token(credential)
    assert all(token != credential for _, token in tokens._verified)


def test_remembered_tokens_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_TOKENS_KEPT", 3)
    monkeypatch.setattr(tokens, "_verified", {})
    for subject in range(1, 8):
        tokens.viewer_from_access_token(_token(get_settings().token_secret, sub=str(subject)))
        assert len(tokens._verified) <= 3


@pytest.mark.parametrize(
    "credential",
    ["pzk_" + "a" * 300 + "_secret", "pzk_abc_secret", "pzk_ZZZZZZZZZZZZ_secret", "pzk__x", "pzk_"],
)
async def test_a_malformed_api_key_is_unauthenticated_not_an_error(api, credential: str) -> None:
    """A bearer credential shaped like an API key but not one of ours (a 300-character
    prefix used to reach the database and fail there) is refused as UNAUTHENTICATED."""
    result = await api("{ __typename }", token=credential)
    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_attempts_that_never_report_back_do_not_lock_the_email_for_good(cache) -> None:
    """Five attempts let through whose checks never finished (the process or client went
    away mid-check) still count, but the back-off runs from them: the next attempt waits
    its second, then gets through; it is not refused forever."""
    email, client = "gone@example.com", "203.0.113.50"
    for n in range(throttle.FREE_ATTEMPTS):
        await throttle.reserve(cache, email, client, now=100.0 + n)
    with pytest.raises(throttle.Throttled):
        await throttle.reserve(cache, email, client, now=104.5)
    await throttle.reserve(cache, email, client, now=106.0)
