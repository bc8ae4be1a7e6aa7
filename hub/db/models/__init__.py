"""All models, imported here so Alembic and create_all see the whole metadata."""

from hub.db.models.base import Base
from hub.db.models.credentials import ConnectorCredential
from hub.db.models.customers import (
    AssignmentHistory,
    Customer,
    CustomerAccountManager,
    FieldOwner,
    User,
    WebSession,
    Workflow,
)
from hub.db.models.imports import CsvImport, ImportFilePiece, ImportLineError
from hub.db.models.inbox import InboxEvent, PollCursor, SecurityEvent, WebhookDelivery
from hub.db.models.jobs import ReplayJob
from hub.db.models.keys import ApiKey
from hub.db.models.runs import RecipeRun, RecipeVersion

__all__ = [
    "ApiKey",
    "AssignmentHistory",
    "Base",
    "ConnectorCredential",
    "CsvImport",
    "Customer",
    "CustomerAccountManager",
    "FieldOwner",
    "ImportFilePiece",
    "ImportLineError",
    "InboxEvent",
    "PollCursor",
    "RecipeRun",
    "ReplayJob",
    "RecipeVersion",
    "SecurityEvent",
    "User",
    "WebSession",
    "WebhookDelivery",
    "Workflow",
]
