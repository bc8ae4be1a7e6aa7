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
from hub.db.models.jobs import BulkAssignJob, ReplayJob
from hub.db.models.keys import ApiKey
from hub.db.models.runs import RecipeRun, RecipeVersion
from hub.db.models.views import SavedView

__all__ = [
    "ApiKey",
    "AssignmentHistory",
    "BulkAssignJob",
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
    "SavedView",
    "SecurityEvent",
    "User",
    "WebSession",
    "WebhookDelivery",
    "Workflow",
]
