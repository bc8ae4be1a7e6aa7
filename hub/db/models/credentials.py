"""Rotating connector credentials (QuickBooks refresh tokens), encrypted, shared by every process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import Base
from hub.db.types import UTCDateTime, utcnow


class ConnectorCredential(Base):
    """The newest value of one rotating credential of one connection.

    ``ciphertext`` is Fernet-encrypted with a key derived from HUB_SECRET_KEY. The MACs (keyed
    with the same secret) let a process compare values without decrypting: ``value_mac`` makes
    a rotation a compare-and-set, ``seed_mac`` tells when the operator configured a new seed.
    """

    __tablename__ = "connector_credentials"
    connection: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    value_mac: Mapped[str] = mapped_column(String(64))
    seed_mac: Mapped[str] = mapped_column(String(64))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
