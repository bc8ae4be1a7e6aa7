"""Rotating connector credentials: the shared, encrypted store (DatabaseCredentials) on both
databases, and the in-memory store (MemoryCredentials) held to the same CredentialStore contract.

The configured value only seeds a credential; once the vendor rotated it, the stored value wins
in every process, until the operator configures a different seed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from connectors.base import CredentialStore, MemoryCredentials
from hub.db.models import ConnectorCredential
from hub.errors import ConfigError
from hub.services.directory.credentials import CredentialCipher, DatabaseCredentials, SecretKeyMissing

SECRET = "some-secret"
CONN = "quickbooks-main"
NAME = "refresh_token"
SEED = "AB11seed-refresh-token-configured-by-the-operator"
ROTATED = "AB11rotated-by-intuit-first"
ROTATED_AGAIN = "AB11rotated-by-intuit-second"
SEED2 = "AB11seed-after-the-operator-re-authorised"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def stored_row(hub, connection: str = CONN, name: str = NAME) -> ConnectorCredential | None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.get(ConnectorCredential, (connection, name))


def row_count(hub) -> int:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(ConnectorCredential))


# --- both implementations of the protocol ---------------------------------------------------


@pytest.fixture(params=["database", "memory"])
def store(request) -> CredentialStore:  # type: ignore[no-untyped-def]
    if request.param == "memory":
        return MemoryCredentials()
    hub = request.getfixturevalue("hub")  # only the database variant needs one
    return DatabaseCredentials(hub.db, SECRET)


def test_current_returns_the_seed_when_nothing_is_stored(store) -> None:  # type: ignore[no-untyped-def]
    assert store.current(CONN, NAME, SEED) == SEED
    assert store.current(CONN, NAME, SEED) == SEED


def test_current_returns_the_rotated_value_when_the_seed_is_unchanged(store) -> None:  # type: ignore[no-untyped-def]
    store.current(CONN, NAME, SEED)

    assert store.rotate(CONN, NAME, replaces=SEED, value=ROTATED) == ROTATED
    assert store.current(CONN, NAME, SEED) == ROTATED
    assert store.rotate(CONN, NAME, replaces=ROTATED, value=ROTATED_AGAIN) == ROTATED_AGAIN
    assert store.current(CONN, NAME, SEED) == ROTATED_AGAIN


def test_rotate_keeps_the_stored_value_when_replaces_is_stale(store) -> None:  # type: ignore[no-untyped-def]
    store.current(CONN, NAME, SEED)
    store.rotate(CONN, NAME, replaces=SEED, value=ROTATED)

    # Another process still holding the seed rotated it too: it must adopt the stored value.
    assert store.rotate(CONN, NAME, replaces=SEED, value="AB11lost-race") == ROTATED
    assert store.current(CONN, NAME, SEED) == ROTATED


def test_rotate_stores_the_value_when_nothing_was_seeded_yet(store) -> None:  # type: ignore[no-untyped-def]
    # The value it replaces counts as the seed, so a rotation is never lost (a row deleted by hand).
    assert store.rotate(CONN, NAME, replaces=SEED, value=ROTATED) == ROTATED
    assert store.current(CONN, NAME, SEED) == ROTATED


def test_rotate_changes_nothing_when_the_value_is_the_one_it_replaces(store) -> None:  # type: ignore[no-untyped-def]
    store.current(CONN, NAME, SEED)
    store.rotate(CONN, NAME, replaces=SEED, value=ROTATED)

    assert store.rotate(CONN, NAME, replaces=ROTATED, value=ROTATED) == ROTATED
    assert store.current(CONN, NAME, SEED) == ROTATED


def test_current_replaces_the_stored_value_when_a_different_seed_is_configured(store) -> None:  # type: ignore[no-untyped-def]
    store.current(CONN, NAME, SEED)
    store.rotate(CONN, NAME, replaces=SEED, value=ROTATED)

    assert store.current(CONN, NAME, SEED2) == SEED2
    assert store.current(CONN, NAME, SEED2) == SEED2
    # Rotations continue from the new seed; the value rotated before it is stale now.
    assert store.rotate(CONN, NAME, replaces=ROTATED, value="AB11from-the-old-grant") == SEED2
    assert store.rotate(CONN, NAME, replaces=SEED2, value=ROTATED_AGAIN) == ROTATED_AGAIN
    assert store.current(CONN, NAME, SEED2) == ROTATED_AGAIN


def test_credentials_are_independent_when_connections_or_names_differ(store) -> None:  # type: ignore[no-untyped-def]
    keys = [(CONN, NAME), (CONN, "other_token"), ("quickbooks-eu", NAME)]
    for connection, name in keys:
        assert store.current(connection, name, f"{connection}/{name}/seed") == f"{connection}/{name}/seed"

    store.rotate(CONN, NAME, replaces=f"{CONN}/{NAME}/seed", value=ROTATED)
    store.current("quickbooks-eu", NAME, SEED2)  # reseeding one leaves the others alone

    assert store.current(CONN, NAME, f"{CONN}/{NAME}/seed") == ROTATED
    assert store.current(CONN, "other_token", f"{CONN}/other_token/seed") == f"{CONN}/other_token/seed"
    assert store.current("quickbooks-eu", NAME, SEED2) == SEED2
    # A rotation that names another credential's value does not touch this one.
    assert store.rotate(CONN, "other_token", replaces=ROTATED, value="AB11x") == (
        f"{CONN}/other_token/seed")


# --- the database store: what is stored, and every process sharing it -----------------------


def test_first_current_stores_the_seed_encrypted_when_nothing_is_stored(hub) -> None:  # type: ignore[no-untyped-def]
    credentials = DatabaseCredentials(hub.db, SECRET)

    assert credentials.current(CONN, NAME, SEED) == SEED

    row = stored_row(hub)
    assert row is not None
    assert SEED not in row.ciphertext
    assert re.fullmatch(r"[A-Za-z0-9_=-]+", row.ciphertext)  # a Fernet token: urlsafe base64
    assert HEX64.match(row.value_mac) and HEX64.match(row.seed_mac)
    assert SEED not in (row.value_mac, row.seed_mac)
    assert row.value_mac == row.seed_mac  # the value is the seed
    assert row.rotated_at is None and row.updated_at is not None
    assert CredentialCipher(SECRET).decrypt(row.ciphertext) == SEED


def test_rotate_stores_the_new_value_encrypted_when_replaces_is_current(hub) -> None:  # type: ignore[no-untyped-def]
    credentials = DatabaseCredentials(hub.db, SECRET)
    credentials.current(CONN, NAME, SEED)
    seeded = stored_row(hub)

    assert credentials.rotate(CONN, NAME, replaces=SEED, value=ROTATED) == ROTATED

    row = stored_row(hub)
    assert ROTATED not in row.ciphertext and SEED not in row.ciphertext
    assert CredentialCipher(SECRET).decrypt(row.ciphertext) == ROTATED
    assert row.seed_mac == seeded.seed_mac  # still seeded by the same configured value
    assert row.value_mac != seeded.value_mac and HEX64.match(row.value_mac)
    assert row.rotated_at is not None
    assert row_count(hub) == 1


def test_current_returns_the_rotated_value_when_another_process_rotated_it(hub) -> None:  # type: ignore[no-untyped-def]
    first = DatabaseCredentials(hub.db, SECRET)
    first.current(CONN, NAME, SEED)
    first.rotate(CONN, NAME, replaces=SEED, value=ROTATED)

    second = DatabaseCredentials(hub.db, SECRET)  # another worker, same HUB_SECRET_KEY

    # The configured seed only seeds: the rotated value wins and the row is left alone.
    assert second.current(CONN, NAME, SEED) == ROTATED
    assert CredentialCipher(SECRET).decrypt(stored_row(hub).ciphertext) == ROTATED


def test_rotate_adopts_the_other_process_value_when_it_rotated_first(hub) -> None:  # type: ignore[no-untyped-def]
    first, second = DatabaseCredentials(hub.db, SECRET), DatabaseCredentials(hub.db, SECRET)
    assert first.current(CONN, NAME, SEED) == second.current(CONN, NAME, SEED) == SEED

    assert first.rotate(CONN, NAME, replaces=SEED, value=ROTATED) == ROTATED
    assert second.rotate(CONN, NAME, replaces=SEED, value="AB11lost-race") == ROTATED

    assert CredentialCipher(SECRET).decrypt(stored_row(hub).ciphertext) == ROTATED
    assert second.current(CONN, NAME, SEED) == first.current(CONN, NAME, SEED) == ROTATED


def test_current_reseeds_every_process_when_a_different_seed_is_configured(hub) -> None:  # type: ignore[no-untyped-def]
    first = DatabaseCredentials(hub.db, SECRET)
    first.current(CONN, NAME, SEED)
    first.rotate(CONN, NAME, replaces=SEED, value=ROTATED)
    old_seed_mac = stored_row(hub).seed_mac

    restarted = DatabaseCredentials(hub.db, SECRET)  # deployed with the new authorisation
    assert restarted.current(CONN, NAME, SEED2) == SEED2

    row = stored_row(hub)
    assert row.seed_mac != old_seed_mac and row.value_mac == row.seed_mac
    assert row.rotated_at is None
    assert CredentialCipher(SECRET).decrypt(row.ciphertext) == SEED2
    assert restarted.rotate(CONN, NAME, replaces=SEED2, value=ROTATED_AGAIN) == ROTATED_AGAIN
    assert DatabaseCredentials(hub.db, SECRET).current(CONN, NAME, SEED2) == ROTATED_AGAIN
    assert row_count(hub) == 1


def test_current_reseeds_when_the_secret_key_differs(hub) -> None:  # type: ignore[no-untyped-def]
    """A process with another HUB_SECRET_KEY cannot read the row, and current() does not try.

    The MACs are keyed with the secret, so under "other-secret" the configured seed's MAC does
    not match the stored seed_mac: current() takes it for a newly configured seed and replaces
    the row with that seed, encrypted under the new key (it never decrypts, so no ConfigError).
    The value rotated under the old key is lost, which is unavoidable (it cannot be decrypted);
    the configured seed is the only thing the process can use, and if Intuit already retired
    it the vendor refuses it and the operator re-authorises. The row is readable with the new
    key only from then on.
    """
    original = DatabaseCredentials(hub.db, SECRET)
    original.current(CONN, NAME, SEED)
    original.rotate(CONN, NAME, replaces=SEED, value=ROTATED)

    assert DatabaseCredentials(hub.db, "other-secret").current(CONN, NAME, SEED) == SEED

    row = stored_row(hub)
    assert CredentialCipher("other-secret").decrypt(row.ciphertext) == SEED
    assert row.seed_mac == CredentialCipher("other-secret").mac(SEED)
    with pytest.raises(ConfigError):
        CredentialCipher(SECRET).decrypt(row.ciphertext)
    assert row_count(hub) == 1


def test_rotate_raises_config_error_when_the_row_was_written_with_another_key(hub) -> None:  # type: ignore[no-untyped-def]
    """rotate() is a compare-and-set on value_mac; under another key nothing matches, and the
    value it then reads back cannot be decrypted: a ConfigError, with the row left as it was."""
    DatabaseCredentials(hub.db, SECRET).current(CONN, NAME, SEED)
    before = stored_row(hub)

    with pytest.raises(ConfigError, match="HUB_SECRET_KEY"):
        DatabaseCredentials(hub.db, "other-secret").rotate(CONN, NAME, replaces=SEED, value=ROTATED)

    after = stored_row(hub)
    assert (after.ciphertext, after.value_mac, after.seed_mac) == (
        before.ciphertext, before.value_mac, before.seed_mac)
    assert DatabaseCredentials(hub.db, SECRET).current(CONN, NAME, SEED) == SEED


@pytest.mark.parametrize("garbage", ["not-a-fernet-token", "", Fernet(Fernet.generate_key()).encrypt(
    b"AB11encrypted-with-an-unrelated-key").decode()])
def test_decrypt_raises_config_error_when_the_ciphertext_is_not_ours(garbage: str) -> None:
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        CredentialCipher("k").decrypt(garbage)


def test_cipher_round_trips_and_macs_are_keyed_when_the_key_is_set() -> None:
    cipher = CredentialCipher("k")
    token = cipher.encrypt(SEED)
    assert token != cipher.encrypt(SEED)  # a fresh IV each time
    assert cipher.decrypt(token) == SEED
    assert cipher.mac(SEED) == CredentialCipher("k").mac(SEED)
    assert cipher.mac(SEED) != CredentialCipher("k2").mac(SEED)
    assert HEX64.match(cipher.mac(SEED))


@pytest.mark.parametrize("secret_key", ["", None])
@pytest.mark.parametrize("use", [
    lambda c: c.current(CONN, NAME, SEED),
    lambda c: c.rotate(CONN, NAME, replaces=SEED, value=ROTATED),
], ids=["current", "rotate"])
def test_first_use_raises_secret_key_missing_when_the_secret_key_is_empty(
    hub, secret_key: str | None, use: Callable[[DatabaseCredentials], str]  # type: ignore[no-untyped-def]
) -> None:
    credentials = DatabaseCredentials(hub.db, secret_key)  # building it is fine: startup must not fail

    with pytest.raises(SecretKeyMissing) as raised:
        use(credentials)

    assert isinstance(raised.value, ConfigError)
    assert raised.value.code == "secret_key_missing"
    assert row_count(hub) == 0


@pytest.mark.parametrize("secret_key", ["", None])
def test_cipher_raises_secret_key_missing_when_the_secret_key_is_empty(secret_key: str | None) -> None:
    with pytest.raises(SecretKeyMissing):
        CredentialCipher(secret_key)  # type: ignore[arg-type]


def test_rows_are_independent_when_connections_or_names_differ(hub) -> None:  # type: ignore[no-untyped-def]
    credentials = DatabaseCredentials(hub.db, SECRET)
    credentials.current(CONN, NAME, SEED)
    credentials.current(CONN, "other_token", SEED)
    credentials.current("quickbooks-eu", NAME, SEED)

    credentials.rotate(CONN, NAME, replaces=SEED, value=ROTATED)
    credentials.current("quickbooks-eu", NAME, SEED2)

    cipher = CredentialCipher(SECRET)
    values = {key: cipher.decrypt(stored_row(hub, *key).ciphertext)
              for key in [(CONN, NAME), (CONN, "other_token"), ("quickbooks-eu", NAME)]}
    assert values == {(CONN, NAME): ROTATED, (CONN, "other_token"): SEED, ("quickbooks-eu", NAME): SEED2}
    assert stored_row(hub, CONN, "other_token").rotated_at is None
    assert row_count(hub) == 3


# --- exchange: the vendor's refresh, one process at a time --------------------------------------


def test_exchange_trades_the_current_value_and_stores_what_comes_back(store) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def trade(value: str) -> str:
        seen.append(value)
        return ROTATED if value == SEED else ROTATED_AGAIN

    assert store.exchange(CONN, NAME, SEED, trade) == ROTATED
    assert store.exchange(CONN, NAME, SEED, trade) == ROTATED_AGAIN
    assert seen == [SEED, ROTATED]
    assert store.current(CONN, NAME, SEED) == ROTATED_AGAIN


def test_exchange_keeps_the_stored_value_when_the_trade_fails(store) -> None:  # type: ignore[no-untyped-def]
    store.exchange(CONN, NAME, SEED, lambda value: ROTATED)

    def refused(value: str) -> str:
        raise RuntimeError("the vendor refused the refresh")

    with pytest.raises(RuntimeError):
        store.exchange(CONN, NAME, SEED, refused)
    assert store.current(CONN, NAME, SEED) == ROTATED


def test_exchanges_in_two_processes_run_one_after_the_other(hub) -> None:  # type: ignore[no-untyped-def]
    """Two workers refreshing at once: the second trades the token the first stored, never the
    one the first just spent (Intuit would refuse it)."""
    import threading
    import time

    seen: list[str] = []

    def trade(value: str) -> str:
        seen.append(value)
        time.sleep(0.3)  # the vendor's round trip, while the other process wants the token too
        return value + "+"

    stores = [DatabaseCredentials(hub.db, SECRET) for _ in range(2)]
    stores[0].current(CONN, NAME, SEED)
    threads = [threading.Thread(target=s.exchange, args=(CONN, NAME, SEED, trade)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == [SEED, SEED + "+"]
    assert stores[1].current(CONN, NAME, SEED) == SEED + "++"
