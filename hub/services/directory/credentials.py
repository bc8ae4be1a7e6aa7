"""Rotating connector credentials in the database, encrypted with a key derived from HUB_SECRET_KEY.

Intuit replaces a QuickBooks refresh token when it is used; the old one soon stops working. A
token kept in one process's memory is lost on restart and unknown to the other workers, so the
newest value lives here, shared by every process. The configured value (HUB_QUICKBOOKS_REFRESH_TOKEN)
only seeds the row: when the operator configures a different seed (re-authorised the app), it
replaces whatever was stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.db.engine import Database
from hub.db.models import ConnectorCredential
from hub.db.types import utcnow
from hub.errors import ConfigError
from hub.services.uow import UnitOfWork

log = logging.getLogger(__name__)


class SecretKeyMissing(ConfigError):
    code = "secret_key_missing"


class CredentialCipher:
    """Fernet encryption and keyed MACs, both derived from one operator secret."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise SecretKeyMissing("HUB_SECRET_KEY is not set: rotating credentials cannot be stored")
        material = secret_key.encode()
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(material, b"hub credentials: encryption")))
        self._mac_key = _derive(material, b"hub credentials: mac")

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError(
                "a stored credential cannot be decrypted: HUB_SECRET_KEY changed? "
                "configure a new seed (e.g. HUB_QUICKBOOKS_REFRESH_TOKEN) to replace it"
            ) from exc

    def mac(self, value: str) -> str:
        return hmac.new(self._mac_key, value.encode(), hashlib.sha256).hexdigest()


def _derive(material: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)


class DatabaseCredentials:
    """The hub's CredentialStore (connectors.base.CredentialStore): one row per credential."""

    def __init__(self, db: Database, secret_key: str | None) -> None:
        self._db = db
        self._secret_key = secret_key or ""
        self._cipher: CredentialCipher | None = None

    def cipher(self) -> CredentialCipher:
        if self._cipher is None:
            self._cipher = CredentialCipher(self._secret_key)
        return self._cipher

    def current(self, connection: str, name: str, seed: str) -> str:
        cipher = self.cipher()
        seed_mac = cipher.mac(seed)
        with UnitOfWork(self._db) as uow:
            row = uow.session.get(ConnectorCredential, (connection, name))
            if row is not None and row.seed_mac == seed_mac:
                return cipher.decrypt(row.ciphertext)
            if row is not None:
                log.warning("connection %s: a new %s was configured; it replaces the stored one",
                            connection, name)
            values = {"connection": connection, "name": name, "ciphertext": cipher.encrypt(seed),
                      "value_mac": seed_mac, "seed_mac": seed_mac, "rotated_at": None,
                      "updated_at": utcnow()}
            insert_ = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
            statement = insert_(ConnectorCredential).values(values)
            # Two processes seeding at once store the same seed; the second changes nothing.
            statement = statement.on_conflict_do_update(
                index_elements=["connection", "name"],
                set_={k: statement.excluded[k] for k in ("ciphertext", "value_mac", "seed_mac",
                                                          "rotated_at", "updated_at")},
                where=ConnectorCredential.seed_mac != seed_mac,
            )
            uow.session.execute(statement)
            uow.commit()
            return self._stored(connection, name) or seed

    def rotate(self, connection: str, name: str, replaces: str, value: str) -> str:
        if value == replaces:
            return value
        cipher = self.cipher()
        with UnitOfWork(self._db) as uow:
            result: Any = uow.session.execute(
                update(ConnectorCredential)
                .where(ConnectorCredential.connection == connection, ConnectorCredential.name == name,
                       ConnectorCredential.value_mac == cipher.mac(replaces))
                .values(ciphertext=cipher.encrypt(value), value_mac=cipher.mac(value),
                        rotated_at=utcnow(), updated_at=utcnow())
            )
            uow.commit()
        if result.rowcount:
            log.info("connection %s: %s rotated by the vendor and stored", connection, name)
            return value
        stored = self._stored(connection, name)
        if stored is None:  # never seeded (or the row was deleted): what it replaces is the seed
            self.current(connection, name, replaces)
            return self.rotate(connection, name, replaces, value)
        # Another process rotated it first: its value is the one to use from now on.
        return stored

    def exchange(self, connection: str, name: str, seed: str, trade: Callable[[str], str]) -> str:
        """The vendor's refresh, one process at a time, under the credential row's lock.

        Touching the row first takes its row lock on PostgreSQL (the write lock on SQLite, which
        every writer takes at BEGIN anyway): another process refreshing meanwhile waits, then
        trades the token this one stored. ``trade`` must bound its own time (HTTP timeouts).
        """
        self.current(connection, name, seed)
        cipher = self.cipher()
        key = (ConnectorCredential.connection == connection, ConnectorCredential.name == name)
        with UnitOfWork(self._db) as uow:
            uow.session.execute(update(ConnectorCredential).where(*key).values(updated_at=utcnow()))
            ciphertext = uow.session.scalar(select(ConnectorCredential.ciphertext).where(*key))
            value = cipher.decrypt(ciphertext) if ciphertext else seed
            traded = trade(value)
            if traded != value:
                uow.session.execute(update(ConnectorCredential).where(*key).values(
                    ciphertext=cipher.encrypt(traded), value_mac=cipher.mac(traded),
                    rotated_at=utcnow(), updated_at=utcnow()))
            uow.commit()
        if traded != value:
            log.info("connection %s: %s rotated by the vendor and stored", connection, name)
        return traded

    def _stored(self, connection: str, name: str) -> str | None:
        with UnitOfWork(self._db) as uow:
            ciphertext = uow.session.scalar(
                select(ConnectorCredential.ciphertext)
                .where(ConnectorCredential.connection == connection, ConnectorCredential.name == name))
        return self.cipher().decrypt(ciphertext) if ciphertext else None
